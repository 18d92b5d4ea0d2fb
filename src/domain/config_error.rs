//! Bad input: a config file, a flag or a setting the operator can fix. Every layer may say
//! it; the shell turns it into exit code 2.

use std::path::PathBuf;

/// A config problem, said so that the operator can fix it: where, which key, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// `line:column` where the parser knows it.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some((line, column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.path.display(),
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// How a command failed, with its exit code in the type: bad input the operator can fix
/// (exit 2), or work that failed — AWS refused or could not be reached, the terminal (exit 1).
#[derive(Debug)]
pub enum Failure {
    BadInput(anyhow::Error),
    Failed(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::BadInput(_) => 2,
            Failure::Failed(_) => 1,
        }
    }

    pub fn error(&self) -> &anyhow::Error {
        match self {
            Failure::BadInput(error) | Failure::Failed(error) => error,
        }
    }

    /// The same failure, with what was being done said first.
    pub fn context(self, what: impl std::fmt::Display + Send + Sync + 'static) -> Failure {
        match self {
            Failure::BadInput(error) => Failure::BadInput(error.context(what)),
            Failure::Failed(error) => Failure::Failed(error.context(what)),
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Failure::BadInput(error.into())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Failed(error)
    }
}

impl From<super::PlatformError> for Failure {
    fn from(error: super::PlatformError) -> Self {
        Failure::Failed(error.into())
    }
}
