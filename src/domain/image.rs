//! Container image references as the OCI distribution spec writes them: what a deploy may
//! put on a task definition.

use std::sync::LazyLock;

use regex::Regex;

/// Docker and ECR refuse a repository name over 255 characters.
const MAX_NAME: usize = 255;

/// `[host[:port]/]path[:tag][@algorithm:hex]`, the grammar of the distribution spec's
/// reference (docker/distribution `reference/regexp.go`).
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let component = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    let domain_part = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain = format!(r"{domain_part}(?:\.{domain_part})*(?::[0-9]+)?");
    let name = format!(r"(?:{domain}/)?{component}(?:/{component})*");
    let tag = r"[\w][\w.-]{0,127}";
    let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]+";
    let pattern = format!(r"^(?P<name>{name})(?::(?P<tag>{tag}))?(?:@(?P<digest>{digest}))?$");
    Regex::new(&pattern).unwrap_or_else(|e| unreachable!("a fixed pattern: {e}"))
});

/// Why `text` is not an image reference a deploy can use, if it is not: it must parse, keep
/// its name within 255 characters, and pin a version (a tag or a digest; `latest` by
/// omission is not a release), and a sha256 digest has 64 hex digits.
pub fn image_problem(text: &str) -> Option<String> {
    let example = "e.g. example/shop:1.6.0 or 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@sha256:<64 hex>";
    let Some(parts) = REFERENCE.captures(text) else {
        return Some(format!("'{text}' is not an image reference ({example})"));
    };
    let name = parts.name("name").map_or("", |m| m.as_str());
    if name.len() > MAX_NAME {
        return Some(format!(
            "the image name is {} characters: at most {MAX_NAME}",
            name.len()
        ));
    }
    if let Some(digest) = parts.name("digest").map(|m| m.as_str())
        && let Some(hex) = digest.strip_prefix("sha256:")
        && hex.len() != 64
    {
        return Some(format!(
            "a sha256 digest has 64 hex digits; this one has {}",
            hex.len()
        ));
    }
    if parts.name("tag").is_none() && parts.name("digest").is_none() {
        return Some(format!(
            "'{text}' names no version: add :tag or @sha256:digest ({example})"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_users_deploy_are_accepted() {
        for good in [
            "example/shop:1.6.0",
            "shop:1.6.0-rc.1",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/shop:2026-11-28",
            "localhost:5000/shop:v2",
            "ghcr.io/acme/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "shop:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(image_problem(good), None, "{good}");
        }
    }

    #[test]
    fn what_the_deploy_prompt_used_to_accept_is_refused_with_the_reason() {
        for (bad, why) in [
            ("ex/shop:1.0;echo", "is not an image reference"),
            (":::", "is not an image reference"),
            ("shop:", "is not an image reference"),
            ("@sha256:zz", "is not an image reference"),
            ("Shop:1.0", "is not an image reference"),
            ("shop", "names no version"),
            ("shop@sha256:0123", "64 hex digits; this one has 4"),
        ] {
            let problem = image_problem(bad).unwrap_or_default();
            assert!(problem.contains(why), "{bad}: {problem}");
        }
        let long = format!("{}:1.0", "a".repeat(300));
        assert!(
            image_problem(&long).is_some_and(|p| p.contains("300 characters")),
            "{:?}",
            image_problem(&long)
        );
    }
}
