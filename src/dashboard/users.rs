//! Dashboard users: those in the config, and those the first-run setup link created,
//! kept in a TOML file of their own (the config file stays the operator's). Only
//! argon2 hashes of passwords are stored.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};

use crate::config::DashboardUser;

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("cannot read the dashboard users file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write the dashboard users file {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("the setup link was used already or is wrong")]
    SetupUsed,
    #[error("no randomness: {0}")]
    Random(String),
}

/// The shape of the users file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    users: Vec<DashboardUser>,
}

/// The shortest password the setup page accepts.
pub const MIN_PASSWORD: usize = 10;

pub struct Users {
    users: RwLock<Vec<DashboardUser>>,
    file: PathBuf,
    /// While no user exists: the token of the one-time setup link.
    setup: Mutex<Option<String>>,
    /// Verified against when the name is unknown, so that a wrong name costs as
    /// long as a wrong password.
    decoy: String,
}

/// An argon2id hash of `password` with a fresh salt (the `spoorloos hash-password`
/// output).
pub fn hash_password(password: &str) -> Result<String, UsersError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| UsersError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&bytes).map_err(|e| UsersError::Random(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Invalid(format!("cannot hash the password: {e}")))
}

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash.trim()).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn read_file(path: &Path) -> Result<Vec<DashboardUser>, UsersError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(UsersError::Read {
                path: path.to_owned(),
                message: e.to_string(),
            });
        }
    };
    let file: UsersFile = toml::from_str(&text).map_err(|e| UsersError::Read {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    for user in &file.users {
        if PasswordHash::new(user.password_hash.trim()).is_err() {
            return Err(UsersError::Read {
                path: path.to_owned(),
                message: format!("user {:?} has no argon2 password hash", user.name),
            });
        }
    }
    Ok(file.users)
}

/// Writes the file whole, readable by its owner only, through a temporary file so
/// that a crash leaves the old or the new one.
fn write_file(path: &Path, users: &[DashboardUser]) -> Result<(), UsersError> {
    let fail = |e: &dyn std::fmt::Display| UsersError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let text = toml::to_string(&UsersFile {
        users: users.to_vec(),
    })
    .map_err(|e| fail(&e))?;
    let text = format!(
        "# Dashboard users created through the setup link (spoorloos). Passwords are\n\
         # kept as argon2 hashes only. Delete an entry to remove the user.\n\n{text}"
    );
    let tmp = path.with_extension("toml.tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp).map_err(|e| fail(&e))?;
        f.write_all(text.as_bytes()).map_err(|e| fail(&e))?;
        f.sync_all().map_err(|e| fail(&e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| fail(&e))
}

/// Checks a new user's name and password; the error says what to change.
pub fn check_new(name: &str, password: &str) -> Result<(), UsersError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(UsersError::Invalid("name".into()));
    }
    if password.chars().count() < MIN_PASSWORD || password.len() > 1024 {
        return Err(UsersError::Invalid("password".into()));
    }
    Ok(())
}

impl Users {
    /// The config's users and the file's; a setup token when there are none.
    pub fn load(config: Vec<DashboardUser>, file: PathBuf) -> Result<Self, UsersError> {
        let mut users = config;
        for user in read_file(&file)? {
            if !users.iter().any(|u| u.name == user.name) {
                users.push(user);
            }
        }
        let setup = if users.is_empty() {
            Some(super::random_token().map_err(|e| UsersError::Random(e.to_string()))?)
        } else {
            None
        };
        Ok(Self {
            users: RwLock::new(users),
            file,
            setup: Mutex::new(setup),
            decoy: hash_password("decoy password, never matched")?,
        })
    }

    /// The one-time setup token, while no user exists.
    pub fn setup_token(&self) -> Option<String> {
        self.setup.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether `token` is the setup link's.
    pub fn setup_matches(&self, token: &str) -> bool {
        let setup = self.setup.lock().unwrap_or_else(|p| p.into_inner());
        setup
            .as_deref()
            .is_some_and(|t| super::same_token(token, t))
    }

    /// Creates the first user through the setup link; the link is used up.
    /// Slow (argon2): call it off the async threads.
    pub fn create_first(
        &self,
        token: &str,
        name: &str,
        password: &str,
    ) -> Result<DashboardUser, UsersError> {
        check_new(name, password)?;
        let mut setup = self.setup.lock().unwrap_or_else(|p| p.into_inner());
        if !setup
            .as_deref()
            .is_some_and(|t| super::same_token(token, t))
        {
            return Err(UsersError::SetupUsed);
        }
        let user = DashboardUser {
            name: name.trim().to_owned(),
            password_hash: hash_password(password)?,
            sites: Vec::new(),
        };
        let mut stored = read_file(&self.file)?;
        stored.push(user.clone());
        write_file(&self.file, &stored)?;
        self.users
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(user.clone());
        *setup = None;
        Ok(user)
    }

    /// The user with this name and password. Slow (argon2) whatever the outcome:
    /// call it off the async threads.
    pub fn verify(&self, name: &str, password: &str) -> Option<DashboardUser> {
        let user = self
            .users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|u| u.name == name.trim())
            .cloned();
        match user {
            Some(user) => verify(password, &user.password_hash).then_some(user),
            None => {
                verify(password, &self.decoy);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setup_link_creates_one_user_who_can_sign_in() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users.toml");
        let users = Users::load(Vec::new(), file.clone()).unwrap();
        let token = users.setup_token().unwrap();
        assert!(matches!(
            users.create_first("wrong", "anna", "long enough password"),
            Err(UsersError::SetupUsed)
        ));
        assert!(matches!(
            users.create_first(&token, "anna", "short"),
            Err(UsersError::Invalid(_))
        ));
        users
            .create_first(&token, "anna", "long enough password")
            .unwrap();
        assert!(users.setup_token().is_none());
        assert!(matches!(
            users.create_first(&token, "bert", "long enough password"),
            Err(UsersError::SetupUsed)
        ));
        assert!(users.verify("anna", "long enough password").is_some());
        assert!(users.verify("anna", "wrong password!").is_none());
        assert!(users.verify("nobody", "long enough password").is_none());
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("$argon2id$") && !text.contains("long enough"));
        // Read back on the next start: no setup link then.
        let again = Users::load(Vec::new(), file).unwrap();
        assert!(again.setup_token().is_none());
        assert!(again.verify("anna", "long enough password").is_some());
    }
}
