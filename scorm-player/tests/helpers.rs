//! Test helpers: the shared sample packages, zips built in the tests (well-formed with the
//! `zip` writer, malicious with a raw writer), and manifests for each kind of package.

use std::io::{Cursor, Write};
use std::path::PathBuf;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The shared sample packages: `PROFICIO_SCORM_SAMPLES`, else `../../shared/scorm-samples`
/// relative to the crate. `None` (after a loud message) when they are not there.
pub fn samples_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("PROFICIO_SCORM_SAMPLES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/scorm-samples"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    // Straight to stderr, past the test harness's output capture, so a skip is never silent.
    let message = format!(
        "\n{bar}\nSKIPPED: the shared SCORM sample packages were not found at {}\n         \
         set PROFICIO_SCORM_SAMPLES to the scorm-samples directory to snapshot them;\n         \
         the packages built inside the tests still ran.\n{bar}\n",
        dir.display(),
        bar = "=".repeat(86),
    );
    let _ = std::io::stderr().write_all(message.as_bytes());
    None
}

/// A well-formed zip built with the `zip` writer.
pub struct ZipBuilder {
    writer: ZipWriter<Cursor<Vec<u8>>>,
}

impl ZipBuilder {
    pub fn new() -> Self {
        Self {
            writer: ZipWriter::new(Cursor::new(Vec::new())),
        }
    }

    fn options(method: CompressionMethod) -> SimpleFileOptions {
        SimpleFileOptions::default()
            .compression_method(method)
            .unix_permissions(0o644)
    }

    pub fn file(mut self, name: &str, data: &[u8]) -> Self {
        self.writer
            .start_file(name, Self::options(CompressionMethod::Deflated))
            .expect("start file");
        self.writer.write_all(data).expect("write file");
        self
    }

    pub fn stored(mut self, name: &str, data: &[u8]) -> Self {
        self.writer
            .start_file(name, Self::options(CompressionMethod::Stored))
            .expect("start file");
        self.writer.write_all(data).expect("write file");
        self
    }

    pub fn dir(mut self, name: &str) -> Self {
        self.writer
            .add_directory(name, Self::options(CompressionMethod::Stored))
            .expect("add directory");
        self
    }

    pub fn symlink(mut self, name: &str, target: &str) -> Self {
        self.writer
            .add_symlink(name, target, Self::options(CompressionMethod::Stored))
            .expect("add symlink");
        self
    }

    pub fn build(self) -> Vec<u8> {
        self.writer.finish().expect("finish zip").into_inner()
    }
}

/// An entry of a hand-written zip: stored, with whatever name, mode, flags and declared size
/// a test wants — things a well-behaved writer refuses to produce.
pub struct RawEntry<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    /// Unix mode (type and permission bits).
    pub mode: u32,
    /// General purpose flags (bit 0: encrypted).
    pub flags: u16,
    /// The uncompressed size to declare, if not the real one.
    pub declared_size: Option<u32>,
}

impl<'a> RawEntry<'a> {
    pub fn new(name: &'a str, data: &'a [u8]) -> Self {
        Self {
            name,
            data,
            mode: 0o100_644,
            flags: 0,
            declared_size: None,
        }
    }
}

/// Writes a zip of stored entries by hand (APPNOTE.TXT §4.3).
pub fn raw_zip(entries: &[RawEntry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = out.len() as u32;
        let crc = crc32(entry.data);
        let size = entry.data.len() as u32;
        let declared = entry.declared_size.unwrap_or(size);
        let name = entry.name.as_bytes();
        // local file header
        out.extend_from_slice(&[0x50, 0x4B, 0x03, 0x04]);
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&entry.flags.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // stored
        out.extend_from_slice(&0u32.to_le_bytes()); // time, date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&declared.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(entry.data);
        // central directory header
        central.extend_from_slice(&[0x50, 0x4B, 0x01, 0x02]);
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by: unix
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&entry.flags.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&declared.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(entry.mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&[0x50, 0x4B, 0x05, 0x06]);
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// A zip holding `manifest` at the root and every file in `files`.
pub fn package(manifest: &str, files: &[&str]) -> Vec<u8> {
    let mut builder = ZipBuilder::new().file("imsmanifest.xml", manifest.as_bytes());
    for file in files {
        builder = builder.file(file, format!("<html><body>{file}</body></html>").as_bytes());
    }
    builder.build()
}

pub const SCORM12_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.course12" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>"#;

/// SCORM 1.2, one SCO, with every 1.2 `adlcp` item field.
pub fn scorm12_single_sco() -> (String, Vec<&'static str>) {
    let manifest = format!(
        r#"{SCORM12_HEAD}
  <organizations default="org">
    <organization identifier="org">
      <title>Single SCO</title>
      <item identifier="item1" identifierref="sco1" parameters="?lang=en">
        <title>The lesson</title>
        <adlcp:prerequisites type="aicc_script">intro</adlcp:prerequisites>
        <adlcp:maxtimeallowed>00:30:00</adlcp:maxtimeallowed>
        <adlcp:timelimitaction>exit,message</adlcp:timelimitaction>
        <adlcp:datafromlms>start=3</adlcp:datafromlms>
        <adlcp:masteryscore>80</adlcp:masteryscore>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="sco1" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <file href="index.html"/>
      <file href="script.js"/>
      <dependency identifierref="shared"/>
    </resource>
    <resource identifier="shared" type="webcontent" adlcp:scormtype="asset">
      <file href="shared/style.css"/>
    </resource>
  </resources>
</manifest>"#
    );
    (
        manifest,
        vec!["index.html", "script.js", "shared/style.css"],
    )
}

/// SCORM 1.2, three SCOs in two clusters, one hidden, parameters on one.
pub fn scorm12_multi_sco() -> (String, Vec<&'static str>) {
    let manifest = format!(
        r#"{SCORM12_HEAD}
  <organizations default="org">
    <organization identifier="org">
      <title>Multi SCO</title>
      <item identifier="part1">
        <title>Part 1</title>
        <item identifier="p1s1" identifierref="r1"><title>One</title></item>
        <item identifier="p1s2" identifierref="r2" parameters="page=2"><title>Two</title></item>
      </item>
      <item identifier="part2" isvisible="false">
        <title>Part 2</title>
        <item identifier="p2s1" identifierref="r3"><title>Three</title></item>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="one/index.html"><file href="one/index.html"/></resource>
    <resource identifier="r2" type="webcontent" adlcp:scormtype="sco" href="two/index.html?x=1"><file href="two/index.html"/></resource>
    <resource identifier="r3" type="webcontent" adlcp:scormtype="sco" href="three/index.html#start"><file href="three/index.html"/></resource>
  </resources>
</manifest>"#
    );
    (
        manifest,
        vec!["one/index.html", "two/index.html", "three/index.html"],
    )
}

pub const SCORM2004_NAMESPACES: &str = r#"xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
  xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"
  xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3"
  xmlns:imsss="http://www.imsglobal.org/xsd/imsss""#;

/// SCORM 2004 4th Edition with sequencing rules of every kind, a sequencing collection,
/// objectives with mapInfo, rollup, randomization, delivery controls, the `adlseq`, `adlnav`
/// and `adlcp` extensions, and `xml:base` at all three levels.
pub fn scorm2004_sequencing() -> (String, Vec<&'static str>) {
    let manifest = format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.seq" version="2" {SCORM2004_NAMESPACES} xml:base="content/">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org" adlseq:objectivesGlobalToSystem="false" adlcp:sharedDataGlobalToSystem="false">
      <title>Sequenced course</title>
      <item identifier="pretest" identifierref="res_pretest">
        <title>Pre-test</title>
        <adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.75" progressWeight="0.5"/>
        <adlcp:timeLimitAction>continue,no message</adlcp:timeLimitAction>
        <adlcp:dataFromLMS>mode=pretest</adlcp:dataFromLMS>
        <adlcp:data>
          <adlcp:map targetID="com.example.notes" readSharedData="true" writeSharedData="true"/>
        </adlcp:data>
        <imsss:sequencing IDRef="common">
          <imsss:sequencingRules>
            <imsss:preConditionRule>
              <imsss:ruleConditions conditionCombination="any">
                <imsss:ruleCondition referencedObjective="obj_pretest" operator="not" condition="objectiveStatusKnown"/>
                <imsss:ruleCondition condition="objectiveMeasureGreaterThan" measureThreshold="0.5"/>
              </imsss:ruleConditions>
              <imsss:ruleAction action="skip"/>
            </imsss:preConditionRule>
            <imsss:exitConditionRule>
              <imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions>
              <imsss:ruleAction action="exit"/>
            </imsss:exitConditionRule>
            <imsss:postConditionRule>
              <imsss:ruleConditions conditionCombination="all">
                <imsss:ruleCondition condition="attempted"/>
                <imsss:ruleCondition condition="satisfied" operator="not"/>
              </imsss:ruleConditions>
              <imsss:ruleAction action="retry"/>
            </imsss:postConditionRule>
          </imsss:sequencingRules>
          <imsss:limitConditions attemptLimit="3" attemptAbsoluteDurationLimit="PT1H"/>
          <imsss:objectives>
            <imsss:primaryObjective objectiveID="obj_pretest" satisfiedByMeasure="true">
              <imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure>
              <imsss:mapInfo targetObjectiveID="com.example.global.pretest" writeSatisfiedStatus="true" writeNormalizedMeasure="true"/>
            </imsss:primaryObjective>
            <imsss:objective objectiveID="obj_extra">
              <imsss:mapInfo targetObjectiveID="com.example.global.extra" readNormalizedMeasure="false"/>
            </imsss:objective>
          </imsss:objectives>
          <adlseq:objectives>
            <adlseq:objective objectiveID="obj_pretest">
              <adlseq:mapInfo targetObjectiveID="com.example.global.pretest" writeRawScore="true" writeCompletionStatus="true"/>
            </adlseq:objective>
          </adlseq:objectives>
        </imsss:sequencing>
        <adlnav:presentation>
          <adlnav:navigationInterface>
            <adlnav:hideLMSUI>previous</adlnav:hideLMSUI>
            <adlnav:hideLMSUI>suspendAll</adlnav:hideLMSUI>
          </adlnav:navigationInterface>
        </adlnav:presentation>
      </item>
      <item identifier="module" isvisible="true">
        <title>Module</title>
        <item identifier="lesson1" identifierref="res_lesson1">
          <title>Lesson 1</title>
          <imsss:sequencing IDRef="common"/>
        </item>
        <item identifier="lesson2" identifierref="res_lesson2" parameters="#part2">
          <title>Lesson 2</title>
          <imsss:sequencing>
            <imsss:controlMode choice="false" forwardOnly="true"/>
            <imsss:sequencingRules>
              <imsss:postConditionRule>
                <imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions>
                <imsss:ruleAction action="exitParent"/>
              </imsss:postConditionRule>
            </imsss:sequencingRules>
            <imsss:auxiliaryResources>
              <imsss:auxiliaryResource auxiliaryResourceID="glossary" purpose="reference"/>
            </imsss:auxiliaryResources>
          </imsss:sequencing>
        </item>
        <imsss:sequencing>
          <imsss:controlMode choice="true" choiceExit="false" flow="true" useCurrentAttemptObjectiveInfo="false"/>
          <imsss:rollupRules rollupObjectiveSatisfied="true" rollupProgressCompletion="false" objectiveMeasureWeight="0.5">
            <imsss:rollupRule childActivitySet="atLeastCount" minimumCount="1">
              <imsss:rollupConditions conditionCombination="all">
                <imsss:rollupCondition condition="completed"/>
                <imsss:rollupCondition operator="not" condition="attemptLimitExceeded"/>
              </imsss:rollupConditions>
              <imsss:rollupAction action="completed"/>
            </imsss:rollupRule>
            <imsss:rollupRule childActivitySet="atLeastPercent" minimumPercent="0.5">
              <imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions>
              <imsss:rollupAction action="satisfied"/>
            </imsss:rollupRule>
          </imsss:rollupRules>
          <imsss:randomizationControls randomizationTiming="onEachNewAttempt" selectCount="1" reorderChildren="true" selectionTiming="once"/>
          <adlseq:constrainedChoiceConsiderations preventActivation="true" constrainChoice="false"/>
          <adlseq:rollupConsiderations requiredForSatisfied="ifAttempted" requiredForCompleted="ifNotSkipped" measureSatisfactionIfActive="false"/>
        </imsss:sequencing>
      </item>
      <imsss:sequencing>
        <imsss:controlMode choice="true" flow="true"/>
      </imsss:sequencing>
    </organization>
  </organizations>
  <resources xml:base="sco/">
    <resource identifier="res_pretest" type="webcontent" adlcp:scormType="sco" href="pretest/index.html" xml:base="a/">
      <file href="pretest/index.html"/>
      <dependency identifierref="res_common"/>
    </resource>
    <resource identifier="res_lesson1" type="webcontent" adlcp:scormType="sco" href="lesson%201.html">
      <file href="lesson%201.html"/>
    </resource>
    <resource identifier="res_lesson2" type="webcontent" adlcp:scormType="sco" href="lesson2.html?unit=2">
      <file href="lesson2.html"/>
    </resource>
    <resource identifier="res_common" type="webcontent" adlcp:scormType="asset" xml:base="../common/">
      <file href="api.js"/>
    </resource>
    <resource identifier="res_external" type="webcontent" adlcp:scormType="asset" href="https://cdn.example.com/video.mp4"/>
  </resources>
  <imsss:sequencingCollection>
    <imsss:sequencing ID="common">
      <imsss:controlMode flow="true"/>
      <imsss:rollupRules objectiveMeasureWeight="0"/>
      <imsss:deliveryControls tracked="true" completionSetByContent="true" objectiveSetByContent="true"/>
    </imsss:sequencing>
  </imsss:sequencingCollection>
</manifest>"##
    );
    (
        manifest,
        vec![
            "content/sco/a/pretest/index.html",
            "content/sco/lesson 1.html",
            "content/sco/lesson2.html",
            "content/common/api.js",
        ],
    )
}

// ---------------------------------------------------------------------------------------------
// Run-time scripts

use scorm_player::{LaunchData, RuntimeOptions, RuntimeState, ScormVersion, Start};

/// One API call of a script; `Get` checks only the error code, `GetIs` the value too.
#[derive(Debug, Clone, Copy)]
pub enum Call<'a> {
    Init(&'a str),
    Term(&'a str),
    Commit(&'a str),
    Get(&'a str),
    GetIs(&'a str, &'a str),
    Set(&'a str, &'a str),
}

pub fn session(version: ScormVersion, launch: LaunchData) -> RuntimeState {
    RuntimeState::new(version, launch, Start::New, RuntimeOptions::default())
}

/// Runs each call and checks `GetLastError` afterwards, as a SCO would see it.
pub fn script(state: &mut RuntimeState, steps: &[(Call<'_>, u16)]) {
    for (at, (call, expected)) in steps.iter().enumerate() {
        let value = match *call {
            Call::Init(p) => state.initialize(p).map(|()| String::new()),
            Call::Term(p) => state.terminate(p).map(|_| String::new()),
            Call::Commit(p) => state.commit(p).map(|_| String::new()),
            Call::Get(e) | Call::GetIs(e, _) => state.get_value(e),
            Call::Set(e, v) => state.set_value(e, v).map(|()| String::new()),
        };
        let code = state.last_error().0;
        let detail = value
            .as_ref()
            .err()
            .map(|e| e.diagnostic.clone())
            .unwrap_or_default();
        assert_eq!(
            code, *expected,
            "step {at}: {call:?} gave {code} ({detail})"
        );
        if let (Call::GetIs(_, want), Ok(got)) = (call, &value) {
            assert_eq!(got, want, "step {at}: {call:?}");
        }
    }
}

/// One `SetValue` case: the values set before (each must succeed), the element, the value,
/// and the error code expected.
pub type SetCase<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str, u16);

/// A running session with `prelude` set (each must succeed), then one `SetValue` checked.
pub fn check_set(
    version: ScormVersion,
    launch: &LaunchData,
    prelude: &[(&str, &str)],
    element: &str,
    value: &str,
    expected: u16,
) {
    let mut state = session(version, launch.clone());
    state.initialize("").expect("initialize");
    for (e, v) in prelude {
        if let Err(error) = state.set_value(e, v) {
            panic!("prelude {e}={v} failed: {error}");
        }
    }
    let result = state.set_value(element, value);
    let detail = result
        .as_ref()
        .err()
        .map(|e| e.diagnostic.clone())
        .unwrap_or_default();
    let shown: String = value.chars().take(40).collect();
    assert_eq!(
        state.last_error().0,
        expected,
        "SetValue({element}, {shown:?}) {detail}"
    );
    if expected == 0 {
        assert_eq!(
            state.get_value(element).ok().as_deref().unwrap_or(value),
            value,
            "read back {element}"
        );
    }
}

/// A running session with `prelude` set, then one `GetValue` checked (value when code is 0
/// and `want` is given).
pub fn check_get(
    version: ScormVersion,
    launch: &LaunchData,
    prelude: &[(&str, &str)],
    element: &str,
    want: Result<&str, u16>,
) {
    let mut state = session(version, launch.clone());
    state.initialize("").expect("initialize");
    for (e, v) in prelude {
        if let Err(error) = state.set_value(e, v) {
            panic!("prelude {e}={v} failed: {error}");
        }
    }
    let got = state.get_value(element);
    match want {
        Ok(value) => assert_eq!(
            got.as_deref().map_err(|e| e.code.0),
            Ok(value),
            "GetValue({element})"
        ),
        Err(code) => assert_eq!(got.map_err(|e| e.code.0), Err(code), "GetValue({element})"),
    }
}
