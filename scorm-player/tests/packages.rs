//! Package validation on zips built here: good packages of each kind, and broken or
//! malicious ones, each refused with every problem listed.

use std::io::Cursor;

use scorm_player::{
    Diagnostic, DiagnosticCode, ExtractErrorKind, Limits, PackageArchive, Severity,
    validate_package_bytes,
};

use crate::helpers::{self, RawEntry, ZipBuilder, raw_zip};

fn errors(zip: &[u8], limits: &Limits) -> Vec<DiagnosticCode> {
    match validate_package_bytes(zip, limits) {
        Ok((_, diagnostics)) => panic!("accepted: {diagnostics:#?}"),
        Err(diagnostics) => diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.code)
            .collect(),
    }
}

fn refused(zip: &[u8]) -> Vec<Diagnostic> {
    validate_package_bytes(zip, &Limits::default()).expect_err("the package should be refused")
}

fn single_sco_manifest() -> String {
    helpers::scorm12_single_sco().0
}

#[test]
fn well_formed_packages_are_accepted() {
    for (manifest, files) in [
        helpers::scorm12_single_sco(),
        helpers::scorm12_multi_sco(),
        helpers::scorm2004_sequencing(),
    ] {
        let zip = helpers::package(&manifest, &files);
        let (package, warnings) =
            validate_package_bytes(&zip, &Limits::default()).expect("accepted");
        assert!(warnings.iter().all(|d| d.severity == Severity::Warning));
        assert_eq!(package.files.len(), files.len() + 1);
        for file in files {
            assert!(
                package.files.iter().any(|f| f.path == file),
                "{file} listed"
            );
        }
    }
}

#[test]
fn files_are_extracted_one_by_one() {
    let (manifest, files) = helpers::scorm12_single_sco();
    let zip = ZipBuilder::new()
        .dir("shared/")
        .file("imsmanifest.xml", manifest.as_bytes())
        .file(files[0], b"<html>index</html>")
        .stored(files[1], b"console.log(1)")
        .file(files[2], &b"body{}".repeat(1000))
        .build();
    let (package, _) = validate_package_bytes(&zip, &Limits::default()).expect("accepted");
    let mut archive = PackageArchive::open(Cursor::new(&zip), &package).expect("open");
    let listed: Vec<_> = archive.files().map(|(path, _)| path.to_owned()).collect();
    assert_eq!(
        listed,
        [
            "imsmanifest.xml",
            "index.html",
            "script.js",
            "shared/style.css"
        ]
    );
    assert_eq!(
        archive.read("index.html").expect("read"),
        b"<html>index</html>"
    );
    assert_eq!(archive.read("script.js").expect("read"), b"console.log(1)");
    let mut streamed = Vec::new();
    std::io::copy(
        &mut archive.reader("shared/style.css").expect("reader"),
        &mut streamed,
    )
    .expect("copy");
    assert_eq!(streamed.len(), 6000);
    let missing = archive
        .read("shared/")
        .expect_err("a directory is not a file");
    assert_eq!(missing.kind(), ExtractErrorKind::NotFound);
    assert_eq!(
        archive
            .read("../etc/passwd")
            .expect_err("not a package file")
            .kind(),
        ExtractErrorKind::NotFound
    );
}

#[test]
fn no_manifest_at_the_root() {
    use DiagnosticCode::ManifestMissing;
    let plain = ZipBuilder::new().file("index.html", b"x").build();
    let diagnostics = refused(&plain);
    assert_eq!(
        diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
        [ManifestMissing]
    );

    let nested = ZipBuilder::new()
        .file("course/imsmanifest.xml", single_sco_manifest().as_bytes())
        .build();
    let diagnostics = refused(&nested);
    assert!(
        diagnostics[0].message.contains("\"course/\""),
        "{}",
        diagnostics[0].message
    );

    let wrong_case = ZipBuilder::new()
        .file("IMSManifest.xml", single_sco_manifest().as_bytes())
        .build();
    assert!(refused(&wrong_case)[0].message.contains("letter case"));

    let cmi5 = ZipBuilder::new()
        .file("cmi5.xml", b"<courseStructure/>")
        .build();
    assert!(refused(&cmi5)[0].message.contains("cmi5"));
}

#[test]
fn bad_xml_and_unknown_schema_version() {
    let bad = helpers::package("<manifest><organizations>", &[]);
    assert_eq!(
        errors(&bad, &Limits::default()),
        [DiagnosticCode::XmlSyntax]
    );
    let (manifest, files) = helpers::scorm12_single_sco();
    let unknown = helpers::package(
        &manifest.replace("<schemaversion>1.2", "<schemaversion>2004 5th Edition"),
        &files,
    );
    assert_eq!(
        errors(&unknown, &Limits::default()),
        [DiagnosticCode::UnknownSchemaVersion]
    );
    let not_utf8 = ZipBuilder::new()
        .file("imsmanifest.xml", b"<manifest>\xff\xfe\xfd</manifest>")
        .build();
    assert_eq!(
        errors(&not_utf8, &Limits::default()),
        [DiagnosticCode::XmlEncoding]
    );
}

#[test]
fn missing_referenced_files() {
    let (manifest, _) = helpers::scorm12_single_sco();
    // script.js missing, the stylesheet present with another letter case.
    let zip = helpers::package(&manifest, &["index.html", "shared/Style.css"]);
    let diagnostics = refused(&zip);
    let missing: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::MissingFile)
        .collect();
    assert_eq!(missing.len(), 2, "{diagnostics:#?}");
    assert_eq!(
        missing[0].location,
        "imsmanifest.xml:/manifest/resources/resource[sco1]/file[2]"
    );
    assert!(
        missing[1].message.contains("case-sensitive"),
        "{}",
        missing[1].message
    );

    // The launch file, named by href with a query, is checked without the query.
    let (manifest, files) = helpers::scorm12_multi_sco();
    let zip = helpers::package(&manifest, &files[..1]);
    let locations: Vec<_> = refused(&zip).into_iter().map(|d| d.location).collect();
    assert_eq!(
        locations,
        [
            "imsmanifest.xml:/manifest/resources/resource[r3]/@href",
            "imsmanifest.xml:/manifest/resources/resource[r3]/file[1]",
            "imsmanifest.xml:/manifest/resources/resource[r2]/@href",
            "imsmanifest.xml:/manifest/resources/resource[r2]/file[1]",
        ]
    );
}

fn with_manifest<'a>(extra: Vec<RawEntry<'a>>, manifest: &'a [u8]) -> Vec<u8> {
    let mut entries = vec![
        RawEntry::new("imsmanifest.xml", manifest),
        RawEntry::new("index.html", b"x"),
        RawEntry::new("script.js", b"x"),
        RawEntry::new("shared/style.css", b"x"),
    ];
    entries.extend(extra);
    raw_zip(&entries)
}

#[test]
fn unsafe_entries_are_refused() {
    let manifest = single_sco_manifest();
    let manifest = manifest.as_bytes();
    let cases: Vec<(RawEntry<'_>, DiagnosticCode)> = vec![
        (
            RawEntry::new("../evil.sh", b"x"),
            DiagnosticCode::UnsafePath,
        ),
        (
            RawEntry::new("a/../../evil.sh", b"x"),
            DiagnosticCode::UnsafePath,
        ),
        (
            RawEntry::new("/etc/cron.d/evil", b"x"),
            DiagnosticCode::UnsafePath,
        ),
        (
            RawEntry::new("C:/Windows/evil.dll", b"x"),
            DiagnosticCode::UnsafePath,
        ),
        (
            RawEntry::new("..\\..\\evil.bat", b"x"),
            DiagnosticCode::UnsafePath,
        ),
        (
            RawEntry {
                mode: 0o120_777,
                ..RawEntry::new("link", b"/etc/passwd")
            },
            DiagnosticCode::Symlink,
        ),
        (
            RawEntry {
                mode: 0o010_644,
                ..RawEntry::new("fifo", b"")
            },
            DiagnosticCode::SpecialFile,
        ),
        (
            RawEntry {
                flags: 1,
                ..RawEntry::new("secret.html", b"xxxxxxxxxxxx")
            },
            DiagnosticCode::Encrypted,
        ),
        (
            RawEntry {
                declared_size: Some(3),
                ..RawEntry::new("liar.html", b"0123456789")
            },
            DiagnosticCode::CorruptEntry,
        ),
        (
            RawEntry {
                declared_size: Some(u32::MAX),
                ..RawEntry::new("huge.bin", b"x")
            },
            DiagnosticCode::EntryTooLarge,
        ),
    ];
    for (entry, code) in cases {
        let name = entry.name.to_owned();
        let zip = with_manifest(vec![entry], manifest);
        assert_eq!(errors(&zip, &Limits::default()), [code], "{name}");
    }
    let symlink = ZipBuilder::new()
        .file("imsmanifest.xml", manifest)
        .symlink("index.html", "/etc/passwd")
        .build();
    assert!(errors(&symlink, &Limits::default()).contains(&DiagnosticCode::Symlink));
}

#[test]
fn duplicate_entries_are_refused_by_name() {
    let manifest = single_sco_manifest();
    let zip = with_manifest(
        vec![RawEntry::new("index.html", b"<script>evil()</script>")],
        manifest.as_bytes(),
    );
    let diagnostics = refused(&zip);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0].code, DiagnosticCode::DuplicateEntry);
    assert_eq!(diagnostics[0].location, "zip:index.html");
}

#[test]
fn zip_bombs_are_refused() {
    let manifest = single_sco_manifest();
    let (_, files) = helpers::scorm12_single_sco();
    let limits = Limits {
        ratio_threshold_bytes: 64 * 1024,
        max_compression_ratio: 100,
        ..Limits::default()
    };
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let mut builder = ZipBuilder::new()
        .file("imsmanifest.xml", manifest.as_bytes())
        .file("bomb.bin", &zeros);
    for file in &files {
        builder = builder.file(file, b"x");
    }
    let bomb = builder.build();
    assert_eq!(errors(&bomb, &limits), [DiagnosticCode::CompressionRatio]);
    // The same file, stored, is big but not a bomb.
    let mut builder = ZipBuilder::new()
        .file("imsmanifest.xml", manifest.as_bytes())
        .stored("big.bin", &zeros);
    for file in &files {
        builder = builder.file(file, b"x");
    }
    assert!(validate_package_bytes(&builder.build(), &limits).is_ok());
    // With default limits the declared ratio alone refuses it, before any byte is inflated.
    assert_eq!(
        errors(&bomb, &Limits::default()),
        [DiagnosticCode::CompressionRatio]
    );
    let small = Limits {
        max_file_bytes: 1024 * 1024,
        ..Limits::default()
    };
    assert_eq!(errors(&bomb, &small), [DiagnosticCode::EntryTooLarge]);
    let package = Limits {
        max_package_bytes: 1024,
        ..Limits::default()
    };
    assert_eq!(errors(&bomb, &package), [DiagnosticCode::PackageTooLarge]);
    // The total is counted while reading: each file is within limits, together they are not.
    let half = vec![7u8; 1536 * 1024];
    let mut builder = ZipBuilder::new()
        .file("imsmanifest.xml", manifest.as_bytes())
        .stored("a.bin", &half)
        .stored("b.bin", &half);
    for file in &files {
        builder = builder.file(file, b"x");
    }
    let total = Limits {
        max_total_bytes: 2 * 1024 * 1024,
        ..Limits::default()
    };
    assert_eq!(
        errors(&builder.build(), &total),
        [DiagnosticCode::TotalTooLarge]
    );
}

#[test]
fn too_many_entries() {
    let manifest = single_sco_manifest();
    let names: Vec<String> = (0..50).map(|i| format!("f{i}.txt")).collect();
    let mut entries = vec![RawEntry::new("imsmanifest.xml", manifest.as_bytes())];
    entries.extend(names.iter().map(|n| RawEntry::new(n, b"x")));
    let zip = raw_zip(&entries);
    let limits = Limits {
        max_entries: 20,
        ..Limits::default()
    };
    assert_eq!(errors(&zip, &limits), [DiagnosticCode::TooManyEntries]);
}

#[test]
fn not_a_zip() {
    assert_eq!(
        errors(b"this is not a zip", &Limits::default()),
        [DiagnosticCode::NotZip]
    );
    assert_eq!(errors(b"", &Limits::default()), [DiagnosticCode::NotZip]);
    let (manifest, files) = helpers::scorm12_single_sco();
    let zip = helpers::package(&manifest, &files);
    let truncated = &zip[..zip.len() / 2];
    assert_eq!(
        errors(truncated, &Limits::default()),
        [DiagnosticCode::NotZip]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let (manifest, _) = helpers::scorm12_single_sco();
    let broken = manifest.replace("identifierref=\"shared\"", "identifierref=\"ghost\"");
    let zip = raw_zip(&[
        RawEntry::new("imsmanifest.xml", broken.as_bytes()),
        RawEntry::new("index.html", b"x"),
        RawEntry::new("../../etc/passwd", b"x"),
        RawEntry::new("/absolute.html", b"x"),
        RawEntry {
            mode: 0o120_777,
            ..RawEntry::new("link.html", b"/etc/shadow")
        },
        RawEntry {
            flags: 1,
            ..RawEntry::new("locked.html", b"xxxxxxxxxxxx")
        },
        RawEntry::new("Index.html", b"x"),
    ]);
    let diagnostics = refused(&zip);
    insta::assert_json_snapshot!("every_problem_at_once", diagnostics);
}
