//! An open repository: backend + master key + config, with index loading and object reading.

use std::sync::{Arc, Mutex};

use crate::backend::{Backend, FileType};
use crate::blob::{open_blob, BlobType};
use crate::config::{ChunkerParams, Config, FORMAT_VERSION};
use crate::crypto::MasterKey;
use crate::envelope;
use crate::error::{Error, Result};
use crate::id::Id;
use crate::index::{decode_index, encode_index, IndexPack, MasterIndex};
use crate::keyfile::KeyFile;
use crate::snapshot::{Snapshot, SnapshotInfo};
use crate::tree::Tree;

/// Options of `init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Chunker sizes.
    pub chunker: ChunkerParams,
    /// Target pack size in bytes.
    pub pack_size: u32,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions { chunker: ChunkerParams::default(), pack_size: 16 * 1024 * 1024 }
    }
}

/// An opened repository.
#[derive(Debug)]
pub struct Repository {
    backend: Arc<dyn Backend>,
    key: MasterKey,
    config: Config,
    index: Mutex<Option<Arc<MasterIndex>>>,
}

/// This machine's host name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

impl Repository {
    /// Creates a new repository with a fresh random master key wrapped under `password`.
    pub fn init(backend: Arc<dyn Backend>, password: &[u8], opts: InitOptions) -> Result<Repository> {
        if backend.exists()? {
            return Err(Error::RepoExists(backend.location()));
        }
        opts.chunker.validate()?;
        backend.create()?;
        let key = MasterKey::generate();
        let kf = KeyFile::create(&key, password, &hostname())?;
        let kf_bytes = serde_json::to_vec_pretty(&kf).unwrap_or_default();
        backend.put(FileType::Key, &Id::random().to_hex(), &kf_bytes)?;
        let config = Config {
            version: FORMAT_VERSION,
            id: Id::random().to_hex(),
            chunker: opts.chunker,
            pack_size: opts.pack_size,
        };
        // The config is written last: a repository exists once it has a config.
        backend.put(FileType::Config, "config", &serde_json::to_vec_pretty(&config).unwrap_or_default())?;
        Ok(Repository { backend, key, config, index: Mutex::new(None) })
    }

    /// Opens an existing repository.
    pub fn open(backend: Arc<dyn Backend>, password: &[u8]) -> Result<Repository> {
        let cfg = match backend.get(FileType::Config, "config") {
            Ok(b) => b,
            Err(Error::NotFound { .. }) => return Err(Error::RepoNotFound(backend.location())),
            Err(e) => return Err(e),
        };
        let config = Config::decode(&cfg)?;
        let mut last_err = None;
        let mut any_valid = false;
        for (name, _) in backend.list(FileType::Key)? {
            let bytes = backend.get(FileType::Key, &name)?;
            let kf = match KeyFile::decode(&bytes, &name) {
                Ok(kf) => kf,
                Err(e) => {
                    last_err = Some(e);
                    continue;
                }
            };
            match kf.open(password, &name) {
                Ok(Some(key)) => return Ok(Repository { backend, key, config, index: Mutex::new(None) }),
                Ok(None) => any_valid = true,
                Err(e) => last_err = Some(e),
            }
        }
        match last_err {
            Some(e) if !any_valid => Err(e),
            _ => Err(Error::WrongPassword),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The master key.
    pub fn key(&self) -> &MasterKey {
        &self.key
    }

    /// The config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The master index (loaded from all index files on first use).
    pub fn index(&self) -> Result<Arc<MasterIndex>> {
        let mut guard = self.index.lock().map_err(|_| Error::Invalid("index lock poisoned".into()))?;
        if let Some(i) = guard.as_ref() {
            return Ok(i.clone());
        }
        let idx = Arc::new(self.load_index()?);
        *guard = Some(idx.clone());
        Ok(idx)
    }

    /// Forgets the cached master index (after this process wrote or rewrote index files).
    pub fn invalidate_index(&self) {
        if let Ok(mut g) = self.index.lock() {
            *g = None;
        }
    }

    /// Reads every index file into a fresh master index.
    pub fn load_index(&self) -> Result<MasterIndex> {
        let mut mi = MasterIndex::default();
        for (name, _) in self.backend.list(FileType::Index)? {
            let packs = self.read_index_file(&name)?;
            mi.add(packs);
            if let Ok(id) = name.parse() {
                mi.files.push(id);
            }
        }
        Ok(mi)
    }

    /// Reads and decodes one index file.
    pub fn read_index_file(&self, name: &str) -> Result<Vec<IndexPack>> {
        let bytes = self.backend.get(FileType::Index, name)?;
        let plain = envelope::open(&self.key, "index", name, &bytes, true)?;
        decode_index(&plain, name)
    }

    /// Writes an index file for `packs`; returns its id.
    pub fn write_index(&self, packs: &[IndexPack]) -> Result<Id> {
        self.put_sealed(FileType::Index, "index", &encode_index(packs))
    }

    /// Seals a plaintext as a whole-file object named by its hash and stores it.
    pub fn put_sealed(&self, t: FileType, kind: &'static str, plain: &[u8]) -> Result<Id> {
        let bytes = envelope::seal(&self.key, kind, plain);
        let id = Id::hash(&bytes);
        self.backend.put(t, &id.to_hex(), &bytes)?;
        Ok(id)
    }

    /// Stores a snapshot (the commit point of a backup).
    pub fn write_snapshot(&self, snap: &Snapshot) -> Result<Id> {
        self.put_sealed(FileType::Snapshot, "snapshot", &snap.encode())
    }

    /// Reads one snapshot.
    pub fn read_snapshot(&self, id: &Id) -> Result<Snapshot> {
        let name = id.to_hex();
        let bytes = self.backend.get(FileType::Snapshot, &name)?;
        let plain = envelope::open(&self.key, "snapshot", &name, &bytes, true)?;
        Snapshot::decode(&plain, &name)
    }

    /// All snapshots, oldest first.
    pub fn snapshots(&self) -> Result<Vec<SnapshotInfo>> {
        let mut out = Vec::new();
        for (name, _) in self.backend.list(FileType::Snapshot)? {
            let Ok(id) = name.parse::<Id>() else { continue };
            let snapshot = match self.read_snapshot(&id) {
                Ok(s) => s,
                // Deleted between list and read by a concurrent forget.
                Err(Error::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            out.push(SnapshotInfo { id, short_id: id.short(), snapshot });
        }
        out.sort_by(|a, b| a.snapshot.time.cmp(&b.snapshot.time).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Finds a snapshot by id prefix or `latest`.
    pub fn find_snapshot(&self, spec: &str) -> Result<SnapshotInfo> {
        let all = self.snapshots()?;
        if spec == "latest" {
            return all.into_iter().last().ok_or_else(|| Error::SnapshotNotFound(spec.into()));
        }
        let spec_l = spec.to_ascii_lowercase();
        let mut m: Vec<_> = all.into_iter().filter(|s| s.id.to_hex().starts_with(&spec_l)).collect();
        match m.len() {
            0 => Err(Error::SnapshotNotFound(spec.into())),
            1 => Ok(m.remove(0)),
            _ => Err(Error::AmbiguousSnapshot(spec.into())),
        }
    }

    /// Reads a blob's stored bytes and opens them.
    pub fn read_blob(&self, id: &Id) -> Result<Vec<u8>> {
        let idx = self.index()?;
        let loc = *idx.get(id).ok_or(Error::BlobNotIndexed(*id))?;
        let pack = idx.pack_id(loc.pack).to_hex();
        let data = self.backend.get_range(FileType::Pack, &pack, loc.offset as u64, loc.length as usize)?;
        open_blob(&self.key, loc.kind, id, loc.compressed, loc.raw_length, &data).map_err(|e| match e {
            Error::Corrupt { reason, .. } => Error::corrupt("blob", format!("{id} in pack {pack}"), reason),
            e => e,
        })
    }

    /// Reads and decodes a tree.
    pub fn load_tree(&self, id: &Id) -> Result<Tree> {
        let b = self.read_blob(id)?;
        Tree::decode(&b, id)
    }

    /// Blob type of an indexed blob.
    pub fn blob_type(&self, id: &Id) -> Result<Option<BlobType>> {
        Ok(self.index()?.get(id).map(|l| l.kind))
    }
}
