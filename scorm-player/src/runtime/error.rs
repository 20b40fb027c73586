//! Run-time errors: what went wrong, as one vocabulary of faults, and the code each version's
//! API reports for it. The two code tables are the spec's (SCORM 1.2 RTE, API error codes; SCORM 2004
//! RTE §3.1.7); the fault table maps each fault to both.

use serde::Serialize;

use crate::version::DataModel;

/// An API error code as `GetLastError` returns it ("0" is no error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ErrorCode(pub u16);

impl ErrorCode {
    pub const NO_ERROR: ErrorCode = ErrorCode(0);
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A failed API call: the code for `GetLastError` and the detail for `GetDiagnostic`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scorm error {code}: {diagnostic}")]
pub struct RuntimeError {
    pub code: ErrorCode,
    pub fault: Fault,
    pub diagnostic: String,
}

impl RuntimeError {
    /// The fault, for callers that match on what happened rather than on a number.
    pub fn kind(&self) -> Fault {
        self.fault
    }
}

/// Everything that can go wrong in an API call, independent of the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Initialize while running.
    AlreadyInitialized,
    /// Initialize after Terminate.
    InitializeAfterTerminate,
    /// Initialize, Terminate or Commit with an argument other than "".
    ArgumentNotEmpty,
    TerminateBeforeInitialize,
    TerminateAfterTerminate,
    GetBeforeInitialize,
    GetAfterTerminate,
    SetBeforeInitialize,
    SetAfterTerminate,
    CommitBeforeInitialize,
    CommitAfterTerminate,
    /// GetValue("").
    GetEmptyElement,
    /// SetValue("", …).
    SetEmptyElement,
    /// Not an element of this data model.
    Undefined,
    /// An element of the wider data model this LMS does not implement.
    NotImplemented,
    /// `x._children` on an element without children.
    NoChildren,
    /// `x._count` on an element that is not a collection.
    NoCount,
    /// SetValue on `_children`, `_count` or `_version`.
    KeywordSet,
    ReadOnly,
    WriteOnly,
    /// GetValue on an element that has no value yet and no default (2004 only).
    ValueNotInitialized,
    TypeMismatch,
    OutOfRange,
    /// A record's creating field (`id`, the interaction `type`) is not set yet.
    DependencyNotEstablished,
    /// GetValue on a record index that does not exist.
    GetIndexOutOfRange,
    /// SetValue on a record index beyond the next one.
    SetIndexOutOfRange,
    /// SetValue refused for a reason outside the type: duplicate ids, capacity, an id change.
    SetFailure,
    /// The LMS could not complete the call (storage down, commit rejected): reported by the
    /// server through [`crate::RuntimeState::record_failure`].
    InitializeFailure,
    TerminateFailure,
    CommitFailure,
    GetFailure,
    GeneralFailure,
}

/// Fault → (SCORM 1.2 code, SCORM 2004 code). SCORM 1.2 has no codes for the finer states:
/// every call outside a running session is 301, argument problems 201, and range errors 405
/// because 1.2 has no 407.
const FAULT_CODES: &[(Fault, u16, u16)] = &[
    (Fault::AlreadyInitialized, 101, 103),
    (Fault::InitializeAfterTerminate, 101, 104),
    (Fault::ArgumentNotEmpty, 201, 201),
    (Fault::TerminateBeforeInitialize, 301, 112),
    (Fault::TerminateAfterTerminate, 301, 113),
    (Fault::GetBeforeInitialize, 301, 122),
    (Fault::GetAfterTerminate, 301, 123),
    (Fault::SetBeforeInitialize, 301, 132),
    (Fault::SetAfterTerminate, 301, 133),
    (Fault::CommitBeforeInitialize, 301, 142),
    (Fault::CommitAfterTerminate, 301, 143),
    (Fault::GetEmptyElement, 201, 301),
    (Fault::SetEmptyElement, 201, 351),
    (Fault::Undefined, 201, 401),
    (Fault::NotImplemented, 401, 402),
    (Fault::NoChildren, 202, 301),
    (Fault::NoCount, 203, 301),
    (Fault::KeywordSet, 402, 404),
    (Fault::ReadOnly, 403, 404),
    (Fault::WriteOnly, 404, 405),
    (Fault::ValueNotInitialized, 0, 403),
    (Fault::TypeMismatch, 405, 406),
    (Fault::OutOfRange, 405, 407),
    (Fault::DependencyNotEstablished, 201, 408),
    (Fault::GetIndexOutOfRange, 201, 301),
    (Fault::SetIndexOutOfRange, 201, 351),
    (Fault::SetFailure, 101, 351),
    (Fault::InitializeFailure, 101, 102),
    (Fault::TerminateFailure, 101, 111),
    (Fault::CommitFailure, 101, 391),
    (Fault::GetFailure, 101, 301),
    (Fault::GeneralFailure, 101, 101),
];

/// SCORM 1.2 RTE (API error codes): the error codes and their `LMSGetErrorString` text.
pub const SCORM12_ERRORS: &[(u16, &str)] = &[
    (0, "No error"),
    (101, "General exception"),
    (201, "Invalid argument error"),
    (202, "Element cannot have children"),
    (203, "Element not an array - cannot have count"),
    (301, "Not initialized"),
    (401, "Not implemented error"),
    (402, "Invalid set value, element is a keyword"),
    (403, "Element is read only"),
    (404, "Element is write only"),
    (405, "Incorrect data type"),
];

/// SCORM 2004 RTE §3.1.7: the error codes and their `GetErrorString` text.
pub const SCORM2004_ERRORS: &[(u16, &str)] = &[
    (0, "No Error"),
    (101, "General Exception"),
    (102, "General Initialization Failure"),
    (103, "Already Initialized"),
    (104, "Content Instance Terminated"),
    (111, "General Termination Failure"),
    (112, "Termination Before Initialization"),
    (113, "Termination After Termination"),
    (122, "Retrieve Data Before Initialization"),
    (123, "Retrieve Data After Termination"),
    (132, "Store Data Before Initialization"),
    (133, "Store Data After Termination"),
    (142, "Commit Before Initialization"),
    (143, "Commit After Termination"),
    (201, "General Argument Error"),
    (301, "General Get Failure"),
    (351, "General Set Failure"),
    (391, "General Commit Failure"),
    (401, "Undefined Data Model Element"),
    (402, "Unimplemented Data Model Element"),
    (403, "Data Model Element Value Not Initialized"),
    (404, "Data Model Element Is Read Only"),
    (405, "Data Model Element Is Write Only"),
    (406, "Data Model Element Type Mismatch"),
    (407, "Data Model Element Value Out Of Range"),
    (408, "Data Model Dependency Not Established"),
];

impl Fault {
    pub fn code(self, model: DataModel) -> ErrorCode {
        let (_, v12, v2004) = FAULT_CODES
            .iter()
            .find(|(fault, _, _)| *fault == self)
            .copied()
            .unwrap_or((self, 101, 101));
        ErrorCode(match model {
            DataModel::Scorm12 => v12,
            DataModel::Scorm2004 => v2004,
        })
    }
}

/// `GetErrorString`: the spec's text for a code, "" for a code the version does not define.
pub fn error_string(model: DataModel, code: ErrorCode) -> &'static str {
    let table = match model {
        DataModel::Scorm12 => SCORM12_ERRORS,
        DataModel::Scorm2004 => SCORM2004_ERRORS,
    };
    table
        .iter()
        .find(|(c, _)| *c == code.0)
        .map_or("", |(_, text)| text)
}

pub(crate) fn fail(model: DataModel, fault: Fault, diagnostic: impl Into<String>) -> RuntimeError {
    RuntimeError {
        code: fault.code(model),
        fault,
        diagnostic: diagnostic.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_maps_to_defined_codes() {
        for (fault, _, _) in FAULT_CODES {
            for model in [DataModel::Scorm12, DataModel::Scorm2004] {
                let code = fault.code(model);
                if *fault == Fault::ValueNotInitialized && model == DataModel::Scorm12 {
                    continue;
                }
                assert!(
                    !error_string(model, code).is_empty(),
                    "{fault:?} {model:?} {code}"
                );
            }
        }
    }
}
