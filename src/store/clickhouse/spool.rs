//! A bounded on-disk spool for batches ClickHouse has not confirmed: while the
//! cluster is down or slow, a collector keeps accepting hits, up to a configured
//! size, and replays them in order once it answers.
//!
//! - Only what the store would send is kept: pseudonymised rows, never an IP
//!   address or a User-Agent (a [`Prepared`] batch is made from events).
//! - Each batch is one file, written to a temporary name, fsynced, renamed, and the
//!   folder fsynced, so a crash leaves whole batches or none; files and the folder
//!   are private to the collector's user.
//! - A batch is deleted only once ClickHouse confirmed every shard's block. A replay
//!   asks each shard first how many of the batch's rows it has, so a batch that
//!   reached some shards before the failure is not inserted twice there.
//! - Full: [`Spool::push`] refuses the batch and the caller counts its hits as
//!   dropped.
//!
//! A file: one JSON line (the batch's id and, per shard, its rows, days and block
//! length), then the blocks one after the other.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::{Part, Prepared};

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("spool file {path} is damaged: {why}")]
    Damaged { path: String, why: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Head {
    id: String,
    parts: Vec<PartHead>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PartHead {
    shard: usize,
    rows: u64,
    days: Vec<String>,
    len: usize,
}

pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    /// The spooled batches, oldest first: (file, its size).
    files: Vec<(PathBuf, u64)>,
    next: u64,
}

impl Spool {
    /// Opens (or makes) the spool folder and finds the batches a previous run left.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Self, SpoolError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
        }
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("batch") => {
                    let size = fs::metadata(&path).map_err(io(&path))?.len();
                    files.push((path, size));
                }
                // A batch whose write did not finish: never confirmed to anyone.
                Some("part") => fs::remove_file(&path).map_err(io(&path))?,
                _ => {}
            }
        }
        files.sort();
        let next = files
            .last()
            .and_then(|(p, _)| p.file_stem()?.to_str()?.parse::<u64>().ok())
            .map_or(0, |n| n + 1);
        Ok(Self {
            dir: dir.to_path_buf(),
            max_bytes,
            files,
            next,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Batches waiting.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Bytes the waiting batches take.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.1).sum()
    }

    /// Keeps a batch, durably, after the others; `Ok(false)` when it does not fit.
    pub fn push(&mut self, batch: &Prepared) -> Result<bool, SpoolError> {
        let head = Head {
            id: batch.id.clone(),
            parts: batch
                .parts
                .iter()
                .map(|p| PartHead {
                    shard: p.shard,
                    rows: p.rows,
                    days: p.days.iter().map(ToString::to_string).collect(),
                    len: p.body.len(),
                })
                .collect(),
        };
        let mut bytes = serde_json::to_vec(&head).map_err(|e| SpoolError::Damaged {
            path: batch.id.clone(),
            why: e.to_string(),
        })?;
        bytes.push(b'\n');
        for part in &batch.parts {
            bytes.extend_from_slice(&part.body);
        }
        let size = bytes.len() as u64;
        if self.bytes() + size > self.max_bytes {
            return Ok(false);
        }
        let name = format!("{:020}", self.next);
        let temp = self.dir.join(format!("{name}.part"));
        let path = self.dir.join(format!("{name}.batch"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&temp).map_err(io(&temp))?;
        file.write_all(&bytes).map_err(io(&temp))?;
        file.sync_all().map_err(io(&temp))?;
        drop(file);
        fs::rename(&temp, &path).map_err(io(&path))?;
        sync_dir(&self.dir)?;
        self.files.push((path, size));
        self.next += 1;
        Ok(true)
    }

    /// The oldest batch, if any.
    pub fn oldest(&self) -> Result<Option<Prepared>, SpoolError> {
        let Some((path, _)) = self.files.first() else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(io(path))?;
        let damaged = |why: &str| SpoolError::Damaged {
            path: path.display().to_string(),
            why: why.to_owned(),
        };
        let newline = memchr::memchr(b'\n', &bytes).ok_or_else(|| damaged("no head"))?;
        let head: Head =
            serde_json::from_slice(&bytes[..newline]).map_err(|e| damaged(&e.to_string()))?;
        let mut at = newline + 1;
        let mut parts = Vec::new();
        for p in head.parts {
            let body = bytes
                .get(at..at + p.len)
                .ok_or_else(|| damaged("shorter than its head says"))?
                .to_vec();
            at += p.len;
            let days = p
                .days
                .iter()
                .map(|d| {
                    d.parse::<NaiveDate>()
                        .map_err(|_| damaged("a day that is no date"))
                })
                .collect::<Result<_, _>>()?;
            parts.push(Part {
                shard: p.shard,
                rows: p.rows,
                days,
                body,
            });
        }
        Ok(Some(Prepared { id: head.id, parts }))
    }

    /// The oldest batch is confirmed: its file goes.
    pub fn confirm_oldest(&mut self) -> Result<(), SpoolError> {
        if self.files.is_empty() {
            return Ok(());
        }
        let (path, _) = self.files.remove(0);
        fs::remove_file(&path).map_err(io(&path))?;
        sync_dir(&self.dir)
    }
}

fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(id: &str, rows: u64) -> Prepared {
        Prepared {
            id: id.into(),
            parts: vec![
                Part {
                    shard: 0,
                    rows,
                    days: vec![NaiveDate::from_ymd_opt(2026, 1, 10).expect("day")],
                    body: format!("{{\"batch\":\"{id}\"}}\n")
                        .repeat(rows as usize)
                        .into_bytes(),
                },
                Part {
                    shard: 1,
                    rows: 1,
                    days: vec![NaiveDate::from_ymd_opt(2026, 1, 9).expect("day")],
                    body: b"{}\n".to_vec(),
                },
            ],
        }
    }

    #[test]
    fn batches_come_back_in_order_after_a_restart_and_a_full_spool_refuses() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("spool");
        let mut spool = Spool::open(&path, 400).expect("open");
        assert!(spool.push(&batch("a1", 2)).expect("push"));
        assert!(spool.push(&batch("b2", 1)).expect("push"));
        // Full: a third does not fit in 400 bytes.
        assert!(!spool.push(&batch("c3", 30)).expect("push"));
        // A write that did not finish is not a batch.
        std::fs::write(path.join("00000000000000000009.part"), b"half").expect("write");
        drop(spool);

        let mut spool = Spool::open(&path, 400).expect("reopen");
        assert_eq!(spool.len(), 2);
        assert_eq!(spool.oldest().expect("read"), Some(batch("a1", 2)));
        spool.confirm_oldest().expect("confirm");
        assert_eq!(spool.oldest().expect("read"), Some(batch("b2", 1)));
        spool.confirm_oldest().expect("confirm");
        assert!(spool.is_empty());
        assert_eq!(std::fs::read_dir(&path).expect("dir").count(), 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
