//! Whether a named AWS profile exists. The SDK's credential chain reads environment keys
//! before profiles, so a misspelt `--profile` or `profile =` would otherwise be ignored in
//! silence whenever keys are in the environment, and writes would go out as someone else.

use std::path::PathBuf;

/// The shared config and credentials files, where the AWS CLI and SDKs look for them.
fn profile_files() -> Vec<PathBuf> {
    let home = dirs::home_dir().unwrap_or_default().join(".aws");
    let from_env =
        |var: &str, default: PathBuf| std::env::var_os(var).map_or(default, PathBuf::from);
    vec![
        from_env("AWS_CONFIG_FILE", home.join("config")),
        from_env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials")),
    ]
}

/// Whether a file of the profile format names `profile`: `[profile NAME]` or `[NAME]`.
pub fn names_profile(text: &str, profile: &str) -> bool {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix('[')?.strip_suffix(']'))
        .map(|section| {
            let section = section.trim();
            section
                .strip_prefix("profile ")
                .map_or(section, str::trim)
                .to_string()
        })
        .any(|name| name == profile)
}

/// `Err` with where it looked, when no profile file names `profile`.
pub fn check_exists(profile: &str) -> Result<(), String> {
    let files = profile_files();
    let found = files
        .iter()
        .any(|path| std::fs::read_to_string(path).is_ok_and(|text| names_profile(&text, profile)));
    if found {
        return Ok(());
    }
    let looked: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    Err(format!(
        "no profile '{profile}' in {}: check the name (aws configure list-profiles), or drop \
         it to use the credentials in the environment",
        looked.join(" or ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_found_in_both_file_formats() {
        let config = "[default]\nregion = eu-west-1\n\n[profile prod]\nregion = us-east-1\n";
        let credentials = "[staging]\naws_access_key_id = x\n";
        assert!(names_profile(config, "prod"));
        assert!(names_profile(config, "default"));
        assert!(names_profile(credentials, "staging"));
        assert!(!names_profile(config, "no-such-profile"));
        assert!(!names_profile("region = prod\n", "prod"));
    }
}
