//! Photo files on the local file system: `<dir>/<report id>/<photo id>.jpg`
//! and `<photo id>_thumb.jpg`. Each file is written to a temporary name,
//! synced and renamed into place, so a reader never sees half a file and a
//! crash leaves either the whole file or none. Directories are created 0700
//! and files 0600: photos of PRIVATE and ANONYMOUS reports are personal data.
//!
//! Several instances behind a load balancer need the directory on shared
//! storage (or another [`PhotoFiles`] adapter).

use crate::ports::{PhotoFiles, StoreError, StoreResult};
use async_trait::async_trait;
use lapor_domain::ids::{PhotoId, ReportId};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct LocalPhotoFiles {
    dir: PathBuf,
}

impl LocalPhotoFiles {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of a photo (or its thumbnail). Ids are UUIDs, so they cannot
    /// name anything outside the directory.
    pub fn path(&self, report: ReportId, photo: PhotoId, thumb: bool) -> PathBuf {
        let name = if thumb {
            format!("{photo}_thumb.jpg")
        } else {
            format!("{photo}.jpg")
        };
        self.dir.join(report.to_string()).join(name)
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Other(anyhow::anyhow!("{what} {}: {e}", path.display()))
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("photo paths have a directory");
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("photo"),
        uuid::Uuid::new_v4().simple()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| StoreError::Other(e.into()))?
}

#[async_trait]
impl PhotoFiles for LocalPhotoFiles {
    async fn save(
        &self,
        report: ReportId,
        photo: PhotoId,
        image: &[u8],
        thumb: &[u8],
    ) -> StoreResult<()> {
        let root = self.dir.clone();
        let image_path = self.path(report, photo, false);
        let thumb_path = self.path(report, photo, true);
        let (image, thumb) = (image.to_vec(), thumb.to_vec());
        blocking(move || {
            let dir = image_path.parent().expect("has a directory").to_owned();
            create_private_dir(&root).map_err(|e| io_error("creating", &root, e))?;
            create_private_dir(&dir).map_err(|e| io_error("creating", &dir, e))?;
            let written = write_atomic(&thumb_path, &thumb)
                .map_err(|e| io_error("writing", &thumb_path, e))
                .and_then(|()| {
                    write_atomic(&image_path, &image)
                        .map_err(|e| io_error("writing", &image_path, e))
                });
            if written.is_err() {
                let _ = remove_if_present(&thumb_path);
            }
            written?;
            sync_dir(&dir);
            sync_dir(&root);
            Ok(())
        })
        .await
    }

    async fn read(
        &self,
        report: ReportId,
        photo: PhotoId,
        thumb: bool,
    ) -> StoreResult<Option<Vec<u8>>> {
        let path = self.path(report, photo, thumb);
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("reading", &path, e)),
        }
    }

    async fn remove(&self, report: ReportId, photo: PhotoId) -> StoreResult<()> {
        let paths = [
            self.path(report, photo, false),
            self.path(report, photo, true),
        ];
        blocking(move || {
            for p in &paths {
                remove_if_present(p).map_err(|e| io_error("removing", p, e))?;
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_saved_read_and_removed() {
        let tmp = std::env::temp_dir().join(format!("lapor-photos-{}", uuid::Uuid::new_v4()));
        let files = LocalPhotoFiles::new(tmp.join("photos"));
        let (r, p) = (ReportId::new_v7(), PhotoId::new_v7());
        assert_eq!(files.read(r, p, false).await.unwrap(), None);
        files.save(r, p, b"image", b"thumb").await.unwrap();
        assert_eq!(
            files.read(r, p, false).await.unwrap().as_deref(),
            Some(&b"image"[..])
        );
        assert_eq!(
            files.read(r, p, true).await.unwrap().as_deref(),
            Some(&b"thumb"[..])
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&files.path(r, p, false)), 0o600);
            assert_eq!(mode(&files.path(r, p, true)), 0o600);
            assert_eq!(mode(&tmp.join("photos").join(r.to_string())), 0o700);
            assert_eq!(mode(&tmp.join("photos")), 0o700);
        }
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(tmp.join("photos").join(r.to_string()))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        files.remove(r, p).await.unwrap();
        files.remove(r, p).await.unwrap();
        assert_eq!(files.read(r, p, true).await.unwrap(), None);
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
