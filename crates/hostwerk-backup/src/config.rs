//! The repository's `config` file: format version, repository id and chunker parameters (plain JSON).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Chunker sizes in bytes (see docs/backup-format.md for why these defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkerParams {
    /// Minimum chunk size; files up to this size are one chunk.
    pub min: u32,
    /// Average (target) chunk size.
    pub avg: u32,
    /// Maximum chunk size.
    pub max: u32,
}

impl Default for ChunkerParams {
    fn default() -> Self {
        ChunkerParams { min: 256 * 1024, avg: 1024 * 1024, max: 4 * 1024 * 1024 }
    }
}

impl ChunkerParams {
    /// Checks the sizes are within what the FastCDC v2020 chunker accepts.
    pub fn validate(&self) -> Result<()> {
        use fastcdc::v2020::{AVERAGE_MAX, AVERAGE_MIN, MAXIMUM_MAX, MAXIMUM_MIN, MINIMUM_MAX, MINIMUM_MIN};
        let ok = (MINIMUM_MIN..=MINIMUM_MAX).contains(&self.min)
            && (AVERAGE_MIN..=AVERAGE_MAX).contains(&self.avg)
            && (MAXIMUM_MIN..=MAXIMUM_MAX).contains(&self.max)
            && self.min <= self.avg
            && self.avg <= self.max;
        if ok {
            Ok(())
        } else {
            Err(Error::Invalid(format!("chunker sizes out of range: {self:?}")))
        }
    }
}

/// The `config` file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Format version.
    pub version: u32,
    /// Random repository id, hex.
    pub id: String,
    /// Chunker parameters.
    pub chunker: ChunkerParams,
    /// Target size of pack files in bytes.
    pub pack_size: u32,
}

impl Config {
    /// Parses and validates the config file.
    pub fn decode(bytes: &[u8]) -> Result<Config> {
        let c: Config = serde_json::from_slice(bytes).map_err(|e| Error::corrupt("config", "config", e.to_string()))?;
        if c.version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion(c.version));
        }
        c.chunker.validate().map_err(|e| Error::corrupt("config", "config", e.to_string()))?;
        if c.pack_size < 1024 * 1024 || c.pack_size > 1024 * 1024 * 1024 {
            return Err(Error::corrupt("config", "config", "pack size out of range"));
        }
        Ok(c)
    }
}
