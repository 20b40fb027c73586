//! SCORM versions: what a manifest declares (CAM) and which run-time data model it implies.

use serde::{Deserialize, Serialize};

/// The SCORM version of a package, from `<schemaversion>` (CAM) or, failing that, its namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ScormVersion {
    /// `<schemaversion>1.2</schemaversion>`
    #[serde(rename = "1.2")]
    Scorm12,
    /// `CAM 1.3`: SCORM 2004 2nd Edition
    #[serde(rename = "2004 2nd Edition")]
    Scorm2004Ed2,
    /// `2004 3rd Edition`
    #[serde(rename = "2004 3rd Edition")]
    Scorm2004Ed3,
    /// `2004 4th Edition`
    #[serde(rename = "2004 4th Edition")]
    Scorm2004Ed4,
}

/// The run-time data model a SCO talks to: `API` (1.2) or `API_1484_11` (2004).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DataModel {
    Scorm12,
    Scorm2004,
}

impl ScormVersion {
    /// The `<schemaversion>` values of CAM, in the spelling the spec uses.
    pub const SCHEMA_VERSIONS: [(&'static str, ScormVersion); 4] = [
        ("1.2", ScormVersion::Scorm12),
        ("CAM 1.3", ScormVersion::Scorm2004Ed2),
        ("2004 3rd Edition", ScormVersion::Scorm2004Ed3),
        ("2004 4th Edition", ScormVersion::Scorm2004Ed4),
    ];

    /// Reads a `<schemaversion>` value; surrounding white space and letter case are forgiven.
    pub fn from_schema_version(value: &str) -> Option<Self> {
        let value = value.trim();
        Self::SCHEMA_VERSIONS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(value))
            .map(|(_, version)| *version)
    }

    pub fn schema_version(self) -> &'static str {
        match self {
            ScormVersion::Scorm12 => "1.2",
            ScormVersion::Scorm2004Ed2 => "CAM 1.3",
            ScormVersion::Scorm2004Ed3 => "2004 3rd Edition",
            ScormVersion::Scorm2004Ed4 => "2004 4th Edition",
        }
    }

    pub fn data_model(self) -> DataModel {
        match self {
            ScormVersion::Scorm12 => DataModel::Scorm12,
            _ => DataModel::Scorm2004,
        }
    }

    pub fn is_2004(self) -> bool {
        self.data_model() == DataModel::Scorm2004
    }
}
