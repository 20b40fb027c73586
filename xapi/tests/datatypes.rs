//! Tables for the special data types: IRIs, UUIDs, language tags, media types, versions,
//! timestamps and durations.

use xapi::{
    DurationUnit, IsoDuration, Version, is_absolute_iri, is_iri, is_language_tag, is_mbox,
    is_media_type, is_uuid, parse_duration, parse_timestamp, parse_uuid,
};

#[test]
fn iris() {
    let cases = [
        ("http://example.com/verbs/attended", true),
        ("https://example.com/a?b=c#d", true),
        ("urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0", true),
        ("mailto:a@example.com", true),
        ("http://例え.テスト/動詞", true),
        ("http://example.com/%E2%82%AC", true),
        ("tag:example.com,2024:x", true),
        ("not.a.valid.iri.com/verb", false),
        // RFC 3986 §3.1 makes "example.com" a well-formed scheme; best effort stops there.
        ("example.com:8080/x", true),
        ("/relative/path", false),
        ("#fragment", false),
        ("", false),
        ("http:", false),
        ("1http://example.com", false),
        ("http://example.com/a b", false),
        ("http://example.com/<x>", false),
        ("http://example.com/%zz", false),
        ("http://example.com/\u{7f}", false),
        ("X:\\meetings\\minutes", false),
    ];
    for (input, expected) in cases {
        assert_eq!(is_absolute_iri(input), expected, "{input:?}");
        assert_eq!(is_iri(input), expected, "{input:?}");
    }
}

#[test]
fn uuids() {
    let cases = [
        ("fd41c918-b88b-4b20-a0a5-a4c32391aaa0", true),
        ("FD41C918-B88B-4B20-A0A5-A4C32391AAA0", true),
        ("00000000-0000-0000-0000-000000000000", true),
        ("AA97B177-9383-4934-8543-0F91A7A028368", false),
        ("MA97B177-9383-4934-8543-0F91A7A02836", false),
        ("fd41c918b88b4b20a0a5a4c32391aaa0", false),
        ("{fd41c918-b88b-4b20-a0a5-a4c32391aaa0}", false),
        ("urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0", false),
        ("fd41c918-b88b-4b20-a0a5_a4c32391aaa0", false),
        ("", false),
    ];
    for (input, expected) in cases {
        assert_eq!(is_uuid(input), expected, "{input:?}");
        assert_eq!(parse_uuid(input).is_ok(), expected, "{input:?}");
    }
    let error = parse_uuid("wrong").expect_err("invalid").at("statementId");
    assert_eq!(
        (error.path.as_str(), error.rule),
        ("statementId", "invalid-uuid")
    );
}

#[test]
fn language_tags() {
    let cases = [
        ("en", true),
        ("en-US", true),
        ("EN-us", true),
        ("es-419", true),
        ("zh-Hant-TW", true),
        ("zh-yue-HK", true),
        ("sl-rozaj-biske", true),
        ("de-CH-1901", true),
        ("en-a-bbb-x-a-ccc", true),
        ("x-whatever", true),
        ("i-klingon", true),
        ("tlh", true),
        ("und", true),
        ("qaa-Qaaa-QM-x-southern", true),
        ("", false),
        ("e", false),
        ("a12345", false),
        ("something", false),
        ("en_US", false),
        ("en-", false),
        ("en--US", false),
        ("en-a", false),
        ("en-x", false),
        ("123", false),
        ("en-US-a-", false),
        ("é", false),
    ];
    for (input, expected) in cases {
        assert_eq!(is_language_tag(input), expected, "{input:?}");
    }
}

#[test]
fn mboxes_and_media_types() {
    for (input, expected) in [
        ("mailto:a@example.com", true),
        ("mailto:first.last+tag@sub.example.co.uk", true),
        ("MAILTO:a@example.com", false),
        ("a@example.com", false),
        ("mailto:a", false),
        ("mailto:@example.com", false),
        ("mailto:a@", false),
        ("mailto:a@b@c", false),
        ("mailto:a@example.com?subject=x", false),
    ] {
        assert_eq!(is_mbox(input), expected, "{input:?}");
    }
    for (input, expected) in [
        ("text/plain", true),
        ("text/plain; charset=ascii", true),
        ("application/octet-stream", true),
        ("application/vnd.api+json;profile=\"a b\"", true),
        ("text", false),
        ("text/", false),
        ("/plain", false),
        ("text/plain; charset", false),
        ("text plain/x", false),
    ] {
        assert_eq!(is_media_type(input), expected, "{input:?}");
    }
}

#[test]
fn version_headers() {
    let cases = [
        ("1.0", Some(Version::V1_0_3)),
        ("1.0.0", Some(Version::V1_0_3)),
        ("1.0.3", Some(Version::V1_0_3)),
        ("1.0.31", Some(Version::V1_0_3)),
        (" 1.0.3 ", Some(Version::V1_0_3)),
        ("2.0", Some(Version::V2_0_0)),
        ("2.0.0", Some(Version::V2_0_0)),
        ("2.0.1", Some(Version::V2_0_0)),
        ("0.9.5", None),
        ("0.95", None),
        ("1.1.0", None),
        ("1.0.", None),
        ("1.0.x", None),
        ("1.0.03", None),
        ("1.0.3.1", None),
        ("2.1.0", None),
        ("3.0.0", None),
        ("", None),
    ];
    for (input, expected) in cases {
        assert_eq!(Version::from_header(input), expected, "{input:?}");
    }
    assert_eq!(Version::V1_0_3.as_str(), "1.0.3");
    assert_eq!(Version::V2_0_0.as_str(), "2.0.0");
}

#[test]
fn timestamps() {
    // (input, expected instant in RFC 3339 UTC with nanoseconds)
    let valid = [
        (
            "2015-11-18T12:17:00+00:00",
            "2015-11-18T12:17:00.000000000Z",
        ),
        ("2015-11-18T12:17:00Z", "2015-11-18T12:17:00.000000000Z"),
        ("2015-11-18t12:17:00z", "2015-11-18T12:17:00.000000000Z"),
        (
            "2023-05-04T12:00:00-05:00",
            "2023-05-04T17:00:00.000000000Z",
        ),
        (
            "2008-09-15T15:53:00.601+00:00",
            "2008-09-15T15:53:00.601000000Z",
        ),
        (
            "2013-05-18T05:32:34.804+00:00",
            "2013-05-18T05:32:34.804000000Z",
        ),
        (
            "2015-11-18T12:17:00.1234567891234Z",
            "2015-11-18T12:17:00.123456789Z",
        ),
        ("2015-11-18T12:17:00,5Z", "2015-11-18T12:17:00.500000000Z"),
        ("2015-11-18T12:17Z", "2015-11-18T12:17:00.000000000Z"),
        ("2015-11-18T12:17:00+05", "2015-11-18T07:17:00.000000000Z"),
        ("20151118T121700Z", "2015-11-18T12:17:00.000000000Z"),
        ("20151118T121700.25+0130", "2015-11-18T10:47:00.250000000Z"),
        ("2015-11-18T12:17:00", "2015-11-18T12:17:00.000000000Z"),
        (
            "2015-11-18T12:17:00.000+0500",
            "2015-11-18T07:17:00.000000000Z",
        ),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:60.000000000Z"),
    ];
    for (input, expected) in valid {
        let parsed = parse_timestamp(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        let utc = parsed
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        assert_eq!(utc, expected, "{input:?}");
    }
    let invalid = [
        "should fail",
        "01/011/2015",
        "2008-09-15T15:53:00.601-00",
        "2008-09-15T15:53:00.601-0000",
        "2008-09-15T15:53:00.601-00:00",
        "2015-11-18",
        "2015-11-18 12:17:00Z",
        "2015-13-18T12:17:00Z",
        "2015-02-30T12:17:00Z",
        "2015-11-18T24:00:00Z",
        "2015-11-18T12:60:00Z",
        "2015-11-18T12:17:00.Z",
        "2015-11-18T12:17:00+2400",
        "2015-11-18T12:17:00+05:00:00",
        "20151118T12:17:00Z",
        "2015-11-18T12:17:00ZZ",
        "15-11-18T12:17:00Z",
        "",
    ];
    for input in invalid {
        let error = parse_timestamp(input).expect_err(input);
        assert_eq!(error.rule, "invalid-timestamp", "{input:?}");
    }
}

#[test]
fn durations() {
    let d = |years,
             months,
             weeks,
             days,
             hours,
             minutes,
             seconds,
             fraction: Option<(u32, DurationUnit)>| {
        IsoDuration {
            years,
            months,
            weeks,
            days,
            hours,
            minutes,
            seconds,
            fraction_nanos: fraction.map_or(0, |f| f.0),
            fraction_unit: fraction.map(|f| f.1),
        }
    };
    let valid = [
        (
            "PT4H35M59.14S",
            d(
                0,
                0,
                0,
                0,
                4,
                35,
                59,
                Some((140_000_000, DurationUnit::Seconds)),
            ),
        ),
        (
            "PT16559.14S",
            d(
                0,
                0,
                0,
                0,
                0,
                0,
                16559,
                Some((140_000_000, DurationUnit::Seconds)),
            ),
        ),
        (
            "P3Y1M29DT4H35M59.14S",
            d(
                3,
                1,
                0,
                29,
                4,
                35,
                59,
                Some((140_000_000, DurationUnit::Seconds)),
            ),
        ),
        ("P3Y", d(3, 0, 0, 0, 0, 0, 0, None)),
        ("P4W", d(0, 0, 4, 0, 0, 0, 0, None)),
        ("P1M", d(0, 1, 0, 0, 0, 0, 0, None)),
        ("PT1M", d(0, 0, 0, 0, 0, 1, 0, None)),
        ("P0D", d(0, 0, 0, 0, 0, 0, 0, None)),
        ("PT0S", d(0, 0, 0, 0, 0, 0, 0, None)),
        (
            "P1DT12H36M0.12567S",
            d(
                0,
                0,
                0,
                1,
                12,
                36,
                0,
                Some((125_670_000, DurationUnit::Seconds)),
            ),
        ),
        (
            "PT0,5S",
            d(
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                Some((500_000_000, DurationUnit::Seconds)),
            ),
        ),
        (
            "P0.5Y",
            d(
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                Some((500_000_000, DurationUnit::Years)),
            ),
        ),
        (
            "PT1.5H",
            d(
                0,
                0,
                0,
                0,
                1,
                0,
                0,
                Some((500_000_000, DurationUnit::Hours)),
            ),
        ),
    ];
    for (input, expected) in valid {
        assert_eq!(
            parse_duration(input).unwrap_or_else(|e| panic!("{input:?}: {e}")),
            expected,
            "{input:?}"
        );
    }
    let invalid = [
        "",
        "P",
        "PT",
        "P1DT",
        "T1H",
        "1D",
        "P4W1D",
        "P1Y4W",
        "P4WT1H",
        "P0003-01-29T04:35:59",
        "PT1H2H",
        "P1D1Y",
        "PT1S1M",
        "P1H",
        "PT1D",
        "P1.5Y2M",
        "PT1.5M2S",
        "P-1D",
        "PT1.S",
        "PT.5S",
        "p1d",
        "P1DT1H ",
        "P99999999999999999999Y",
        "4 hours",
    ];
    for input in invalid {
        let error = parse_duration(input).expect_err(input);
        assert_eq!(error.rule, "invalid-duration", "{input:?}");
    }
    // Comparison precision is 0.01 s (9274.1.1 §4.2.7).
    let long = parse_duration("P1DT12H36M0.1237S")
        .expect("valid")
        .truncated_to_hundredths();
    let short = parse_duration("P1DT12H36M0.12S")
        .expect("valid")
        .truncated_to_hundredths();
    assert_eq!(long, short);
    let whole = parse_duration("PT1.001S")
        .expect("valid")
        .truncated_to_hundredths();
    assert_eq!(whole, parse_duration("PT1S").expect("valid"));
    assert!((parse_duration("PT1H30M").expect("valid").approx_seconds() - 5400.0).abs() < 1e-9);
}
