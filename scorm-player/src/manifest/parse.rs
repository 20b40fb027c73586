//! From the XML tree to the [`Manifest`] model: content packaging (IMS CP as CAM profiles
//! it), the ADL extensions of each version, version detection and reference checks.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::sequencing::{Sequencing, parse_sequencing};
use super::xml::{self, Document, Element, FILE, Ns, XmlLimits};
use super::{
    CompletionThreshold, DataMap, FileRef, HideLmsUi, Item, Manifest, Organization, Prerequisites,
    Resource, ScormType, TimeLimitAction,
};
use crate::diagnostic::{Diagnostic, DiagnosticCode};
use crate::href::{self, Resolved};
use crate::version::ScormVersion;

pub(super) fn parse(bytes: &[u8], limits: &XmlLimits) -> (Manifest, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let Some(document) = xml::parse_document(bytes, limits, &mut diagnostics) else {
        return (Manifest::default(), diagnostics);
    };
    let manifest = build(&document, &mut diagnostics);
    (manifest, diagnostics)
}

/// Parsing context: where diagnostics go and which version's rules apply.
pub(super) struct Ctx<'d> {
    diagnostics: &'d mut Vec<Diagnostic>,
    version: Option<ScormVersion>,
}

/// A path-like location for an element below `parent`: `…/resource[RES1]`, `…/file[3]`.
pub(super) fn location(parent: &str, el: &Element, index: Option<usize>) -> String {
    let prefix = match el.ns {
        Ns::Adlcp => "adlcp:",
        Ns::Imsss => "imsss:",
        Ns::Adlseq => "adlseq:",
        Ns::Adlnav => "adlnav:",
        _ => "",
    };
    let id = el.plain("identifier").or_else(|| el.plain("ID"));
    match (id, index) {
        (Some(id), _) => format!("{parent}/{prefix}{}[{id}]", el.name),
        (None, Some(n)) => format!("{parent}/{prefix}{}[{n}]", el.name),
        (None, None) => format!("{parent}/{prefix}{}", el.name),
    }
}

impl Ctx<'_> {
    pub(super) fn error(
        &mut self,
        code: DiagnosticCode,
        at: &str,
        el: &Element,
        message: impl Into<String>,
    ) {
        self.error_at(code, at, el.line, message);
    }

    /// An error found on the model rather than on one element (`line` 0: none to give).
    fn error_at(&mut self, code: DiagnosticCode, at: &str, line: u32, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(code, format!("{FILE}:{at}"), message).at_line(line));
    }

    pub(super) fn warn(
        &mut self,
        code: DiagnosticCode,
        at: &str,
        el: &Element,
        message: impl Into<String>,
    ) {
        self.diagnostics
            .push(Diagnostic::warning(code, format!("{FILE}:{at}"), message).at_line(el.line));
    }

    /// Elements this parser does not know are ignored; those in a SCORM namespace get a
    /// warning, because they are usually a misspelling of something that matters.
    pub(super) fn unexpected(&mut self, el: &Element, at: &str) {
        if matches!(el.ns, Ns::Imsss | Ns::Adlseq | Ns::Adlcp | Ns::Adlnav) {
            self.warn(
                DiagnosticCode::ItemStructure,
                at,
                el,
                format!("<{}> is not expected here and is ignored", el.name),
            );
        }
    }

    pub(super) fn required(&mut self, el: &Element, name: &str, at: &str) -> Option<String> {
        match el.plain(name).map(str::trim) {
            Some(value) if !value.is_empty() => Some(value.to_owned()),
            _ => {
                self.error(
                    DiagnosticCode::MissingAttribute,
                    at,
                    el,
                    format!("the {name} attribute is required"),
                );
                None
            }
        }
    }

    /// An `xs:boolean` attribute; a bad value is an error and the default applies.
    pub(super) fn boolean(
        &mut self,
        el: &Element,
        ns: Ns,
        name: &str,
        default: bool,
        at: &str,
    ) -> bool {
        match el.attr(ns, name).map(str::trim) {
            None => default,
            Some("true" | "1") => true,
            Some("false" | "0") => false,
            Some(other) => {
                self.error(
                    DiagnosticCode::InvalidValue,
                    at,
                    el,
                    format!("{name}=\"{other}\" is not a boolean (true or false)"),
                );
                default
            }
        }
    }

    /// An `xs:decimal` attribute within `range`; a bad value is an error and the default applies.
    pub(super) fn number(
        &mut self,
        el: &Element,
        ns: Ns,
        name: &str,
        default: f64,
        range: (f64, f64),
        at: &str,
    ) -> f64 {
        match el.attr(ns, name) {
            None => default,
            Some(raw) => self.decimal(el, name, raw, default, range, at),
        }
    }

    pub(super) fn number_text(
        &mut self,
        el: &Element,
        default: f64,
        range: (f64, f64),
        at: &str,
    ) -> f64 {
        let name = el.name.clone();
        self.decimal(el, &name, el.text(), default, range, at)
    }

    fn decimal(
        &mut self,
        el: &Element,
        name: &str,
        raw: &str,
        default: f64,
        range: (f64, f64),
        at: &str,
    ) -> f64 {
        match parse_decimal(raw) {
            Some(value) if value >= range.0 && value <= range.1 => value,
            Some(_) => {
                let message = format!("{name} {raw} is outside {}..{}", range.0, range.1);
                self.error(DiagnosticCode::InvalidValue, at, el, message);
                default
            }
            None => {
                self.error(
                    DiagnosticCode::InvalidValue,
                    at,
                    el,
                    format!("{name} \"{raw}\" is not a decimal number"),
                );
                default
            }
        }
    }

    /// A non-negative integer attribute.
    pub(super) fn count(&mut self, el: &Element, ns: Ns, name: &str, at: &str) -> Option<u32> {
        let raw = el.attr(ns, name)?.trim();
        match raw.parse::<u32>() {
            Ok(value) => Some(value),
            Err(_) => {
                self.error(
                    DiagnosticCode::InvalidValue,
                    at,
                    el,
                    format!("{name}=\"{raw}\" is not a non-negative integer"),
                );
                None
            }
        }
    }

    /// A vocabulary attribute with a default.
    pub(super) fn token<T: Copy>(
        &mut self,
        el: &Element,
        name: &str,
        table: &[(&str, T)],
        default: T,
        at: &str,
    ) -> T {
        match el.plain(name) {
            None => default,
            Some(_) => self.required_token(el, name, table, at).unwrap_or(default),
        }
    }

    pub(super) fn required_token<T: Copy>(
        &mut self,
        el: &Element,
        name: &str,
        table: &[(&str, T)],
        at: &str,
    ) -> Option<T> {
        let Some(raw) = el.plain(name).map(str::trim) else {
            self.error(
                DiagnosticCode::MissingAttribute,
                at,
                el,
                format!("the {name} attribute is required"),
            );
            return None;
        };
        if let Some((_, value)) = table.iter().find(|(token, _)| *token == raw) {
            return Some(*value);
        }
        let allowed: Vec<&str> = table.iter().map(|(token, _)| *token).collect();
        self.error(
            DiagnosticCode::InvalidValue,
            at,
            el,
            format!("{name}=\"{raw}\" is not one of {}", allowed.join(", ")),
        );
        None
    }
}

fn parse_decimal(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    let digits = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    let valid = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && digits != ".";
    if !valid {
        return None;
    }
    raw.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn build(document: &Document, diagnostics: &mut Vec<Diagnostic>) -> Manifest {
    let root = &document.root;
    let at = "/manifest";
    if root.name != "manifest" || !matches!(root.ns, Ns::Imscp | Ns::None) {
        diagnostics.push(
            Diagnostic::error(
                DiagnosticCode::ManifestRoot,
                format!("{FILE}:/{}", root.name),
                format!(
                    "the root element is <{}>, not an IMS content packaging <manifest>",
                    root.name
                ),
            )
            .at_line(root.line),
        );
        return Manifest::default();
    }
    let mut ctx = Ctx {
        diagnostics,
        version: None,
    };
    if root.ns == Ns::None {
        ctx.warn(
            DiagnosticCode::XmlNamespace,
            at,
            root,
            "<manifest> is in no namespace; the IMS content packaging namespace is expected",
        );
    }

    let metadata = root.child(root.ns, "metadata");
    let schema = metadata
        .and_then(|m| m.child(root.ns, "schema"))
        .map(|s| s.text().to_owned());
    let schema_version_el = metadata.and_then(|m| m.child(root.ns, "schemaversion"));
    let schema_version = schema_version_el.map(|s| s.text().to_owned());
    ctx.version = detect_version(&mut ctx, root, schema_version_el, &document.namespaces);
    if let Some(schema) = &schema
        && schema != "ADL SCORM"
    {
        ctx.warn(
            DiagnosticCode::InvalidValue,
            &format!("{at}/metadata/schema"),
            root,
            format!("<schema> is \"{schema}\", SCORM packages say \"ADL SCORM\""),
        );
    }

    let identifier = match root.plain("identifier") {
        Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => {
            ctx.warn(
                DiagnosticCode::MissingAttribute,
                at,
                root,
                "<manifest> has no identifier",
            );
            String::new()
        }
    };
    let base = root.attr(Ns::Xml, "base").map(str::to_owned);

    let resources_el = root.child(root.ns, "resources");
    let resources_base = resources_el
        .and_then(|r| r.attr(Ns::Xml, "base"))
        .map(str::to_owned);
    if let Some(value) = &base {
        check_base(&mut ctx, root, at, value);
    }
    if let (Some(el), Some(value)) = (resources_el, &resources_base) {
        check_base(&mut ctx, el, "/manifest/resources", value);
    }
    let mut resources = Vec::new();
    match resources_el {
        Some(resources_el) => {
            let resources_at = location(at, resources_el, None);
            for child in &resources_el.children {
                if child.ns == root.ns && child.name == "resource" {
                    let resource_at = location(&resources_at, child, None);
                    let bases = [base.as_deref(), resources_base.as_deref()];
                    if let Some(resource) = resource(&mut ctx, child, &resource_at, &bases) {
                        resources.push(resource);
                    }
                }
            }
        }
        None => ctx.error(
            DiagnosticCode::MissingElement,
            at,
            root,
            "<manifest> has no <resources>",
        ),
    }
    check_resources(&mut ctx, &resources, at);

    let mut sequencing_collection = Vec::new();
    if let Some(collection) = root.child(Ns::Imsss, "sequencingCollection") {
        let collection_at = location(at, collection, None);
        for child in collection.children_named(Ns::Imsss, "sequencing") {
            let child_at = location(&collection_at, child, None);
            let sequencing = parse_sequencing(&mut ctx, child, &child_at);
            if sequencing.id.is_none() {
                ctx.error(
                    DiagnosticCode::MissingAttribute,
                    &child_at,
                    child,
                    "a sequencing collection entry needs an ID",
                );
            }
            if sequencing.id_ref.is_some() {
                ctx.error(
                    DiagnosticCode::InvalidValue,
                    &child_at,
                    child,
                    "a sequencing collection entry cannot itself use IDRef",
                );
            }
            sequencing_collection.push(sequencing);
        }
        let mut seen = BTreeSet::new();
        for sequencing in &sequencing_collection {
            if let Some(id) = &sequencing.id
                && !seen.insert(id.as_str())
            {
                ctx.error(
                    DiagnosticCode::DuplicateIdentifier,
                    &collection_at,
                    collection,
                    format!("sequencing ID '{id}' is defined twice"),
                );
            }
        }
    }
    if root.children_named(root.ns, "manifest").next().is_some() {
        ctx.warn(
            DiagnosticCode::ItemStructure,
            at,
            root,
            "sub-manifests are not supported by SCORM and are ignored",
        );
    }

    let mut manifest = Manifest {
        identifier,
        version: root.plain("version").map(str::to_owned),
        scorm_version: ctx.version,
        schema,
        schema_version,
        base,
        resources_base,
        default_organization: None,
        organizations: Vec::new(),
        resources,
        sequencing_collection,
    };

    match root.child(root.ns, "organizations") {
        Some(organizations_el) => organizations(
            &mut ctx,
            organizations_el,
            &location(at, organizations_el, None),
            &mut manifest,
        ),
        None => ctx.error(
            DiagnosticCode::MissingElement,
            at,
            root,
            "<manifest> has no <organizations>",
        ),
    }
    check_identifiers(&mut ctx, &manifest);
    manifest
}

/// CAM: `<schemaversion>` names the version; without it the ADL namespaces tell.
fn detect_version(
    ctx: &mut Ctx<'_>,
    root: &Element,
    declared: Option<&Element>,
    namespaces: &BTreeSet<String>,
) -> Option<ScormVersion> {
    let at = "/manifest/metadata/schemaversion";
    // Diagnostics point at <schemaversion> when there is one, else at <manifest>.
    let here = declared.unwrap_or(root);
    let declared = declared.map(Element::text);
    let has = |needle: &str| {
        namespaces
            .iter()
            .any(|ns| ns.to_ascii_lowercase().contains(needle))
    };
    let ns12 = has("adlcp_rootv1p2");
    let ns2004 = has("adlcp_v1p3")
        || has("adlseq_v1p3")
        || has("adlnav_v1p3")
        || namespaces.iter().any(|ns| xml::classify(ns) == Ns::Imsss);
    if let Some(declared) = declared {
        let Some(version) = ScormVersion::from_schema_version(declared) else {
            let allowed: Vec<&str> = ScormVersion::SCHEMA_VERSIONS
                .iter()
                .map(|(name, _)| *name)
                .collect();
            ctx.error(
                DiagnosticCode::UnknownSchemaVersion,
                at,
                here,
                format!(
                    "<schemaversion> \"{declared}\" is not a SCORM version this player knows ({})",
                    allowed.join(", ")
                ),
            );
            return None;
        };
        if version.is_2004() && ns12 && !ns2004 {
            ctx.warn(DiagnosticCode::SchemaVersionMismatch, at, here, format!("<schemaversion> says {declared} but the namespaces are SCORM 1.2's; reading it as {declared}"));
        } else if !version.is_2004() && ns2004 && !ns12 {
            ctx.warn(
                DiagnosticCode::SchemaVersionMismatch,
                at,
                here,
                "<schemaversion> says 1.2 but the namespaces are SCORM 2004's; reading it as 1.2",
            );
        }
        return Some(version);
    }
    if ns2004 {
        let version = if uses_4th_edition_features(root) {
            ScormVersion::Scorm2004Ed4
        } else {
            ScormVersion::Scorm2004Ed3
        };
        ctx.warn(
            DiagnosticCode::UnknownSchemaVersion,
            at,
            here,
            format!(
                "no <schemaversion>; the SCORM 2004 namespaces suggest {}",
                version.schema_version()
            ),
        );
        return Some(version);
    }
    if ns12 {
        ctx.warn(
            DiagnosticCode::UnknownSchemaVersion,
            at,
            here,
            "no <schemaversion>; the adlcp_rootv1p2 namespace says SCORM 1.2",
        );
        return Some(ScormVersion::Scorm12);
    }
    ctx.error(
        DiagnosticCode::UnknownSchemaVersion,
        at,
        here,
        "no <schemaversion> and no ADL namespace: this is not a SCORM package (or the manifest lost its metadata)",
    );
    None
}

fn uses_4th_edition_features(el: &Element) -> bool {
    let here = match (el.ns, el.name.as_str()) {
        (Ns::Adlcp, "data") => true,
        (Ns::Adlseq, "objectives") => true,
        (Ns::Adlcp, "completionThreshold") => !el.attrs.is_empty(),
        _ => el.attr(Ns::Adlcp, "sharedDataGlobalToSystem").is_some(),
    };
    here || el.children.iter().any(uses_4th_edition_features)
}

fn resource(
    ctx: &mut Ctx<'_>,
    el: &Element,
    at: &str,
    outer_bases: &[Option<&str>; 2],
) -> Option<Resource> {
    let identifier = ctx.required(el, "identifier", at)?;
    let resource_type = el.plain("type").map(str::to_owned).unwrap_or_else(|| {
        ctx.error(
            DiagnosticCode::MissingAttribute,
            at,
            el,
            "the type attribute is required (usually \"webcontent\")",
        );
        String::new()
    });
    let scorm_type = scorm_type(ctx, el, at);
    let base = el.attr(Ns::Xml, "base").map(str::to_owned);
    if let Some(value) = &base {
        check_base(ctx, el, at, value);
    }
    let bases: Vec<&str> = outer_bases
        .iter()
        .flatten()
        .copied()
        .chain(base.as_deref())
        .collect();

    let href = el.plain("href").map(str::to_owned);
    let (url, path) = match &href {
        Some(raw) => match resolve(ctx, el, at, &bases, raw, "href") {
            Some(Resolved::Local { url, path }) => (Some(url), Some(path)),
            Some(Resolved::External { url }) => (Some(url), None),
            None => (None, None),
        },
        None => (None, None),
    };
    if href.is_none() && scorm_type == ScormType::Sco {
        ctx.error(
            DiagnosticCode::MissingAttribute,
            at,
            el,
            "a SCO resource needs an href to launch",
        );
    }

    let mut files = Vec::new();
    let mut dependencies = Vec::new();
    let mut file_index = 0;
    let mut dependency_index = 0;
    for child in &el.children {
        if child.ns != el.ns {
            continue;
        }
        match child.name.as_str() {
            "file" => {
                file_index += 1;
                let file_at = location(at, child, Some(file_index));
                let Some(raw) = ctx.required(child, "href", &file_at) else {
                    continue;
                };
                let path = match resolve(ctx, child, &file_at, &bases, &raw, "href") {
                    Some(Resolved::Local { path, .. }) => Some(path),
                    _ => None,
                };
                files.push(FileRef { href: raw, path });
            }
            "dependency" => {
                dependency_index += 1;
                let dependency_at = location(at, child, Some(dependency_index));
                if let Some(target) = ctx.required(child, "identifierref", &dependency_at) {
                    dependencies.push(target);
                }
            }
            _ => {}
        }
    }
    Some(Resource {
        identifier,
        resource_type,
        scorm_type,
        base,
        href,
        url,
        path,
        files,
        dependencies,
    })
}

fn scorm_type(ctx: &mut Ctx<'_>, el: &Element, at: &str) -> ScormType {
    let expected = if ctx.version == Some(ScormVersion::Scorm12) {
        "scormtype"
    } else {
        "scormType"
    };
    let other = if expected == "scormtype" {
        "scormType"
    } else {
        "scormtype"
    };
    let raw = match (el.attr(Ns::Adlcp, expected), el.attr(Ns::Adlcp, other)) {
        (Some(value), _) => Some(value),
        (None, Some(value)) => {
            if ctx.version.is_some() {
                ctx.warn(
                    DiagnosticCode::AttributeCase,
                    at,
                    el,
                    format!("adlcp:{other} is spelled adlcp:{expected} in this SCORM version; read anyway"),
                );
            }
            Some(value)
        }
        (None, None) => None,
    };
    match raw.map(str::trim) {
        Some(value) if value.eq_ignore_ascii_case("sco") => ScormType::Sco,
        Some(value) if value.eq_ignore_ascii_case("asset") => ScormType::Asset,
        Some(value) => {
            ctx.error(
                DiagnosticCode::InvalidValue,
                at,
                el,
                format!("adlcp:{expected}=\"{value}\" is neither sco nor asset"),
            );
            ScormType::Asset
        }
        None => {
            ctx.warn(
                DiagnosticCode::MissingAttribute,
                at,
                el,
                format!("no adlcp:{expected}; the resource is taken as an asset"),
            );
            ScormType::Asset
        }
    }
}

fn check_base(ctx: &mut Ctx<'_>, el: &Element, at: &str, value: &str) {
    let value = value.trim();
    if !value.is_empty() && !value.ends_with('/') && !href::has_scheme(value) {
        ctx.warn(
            DiagnosticCode::XmlBase,
            at,
            el,
            format!("xml:base \"{value}\" does not end with '/': by RFC 3986 its last segment is dropped when resolving"),
        );
    }
}

fn resolve(
    ctx: &mut Ctx<'_>,
    el: &Element,
    at: &str,
    bases: &[&str],
    raw: &str,
    name: &str,
) -> Option<Resolved> {
    if raw.contains('\\') {
        ctx.warn(
            DiagnosticCode::InvalidHref,
            at,
            el,
            format!("{name} \"{raw}\" uses '\\' as a separator; read as '/' like browsers do"),
        );
    }
    match href::resolve(bases, raw) {
        Ok(resolved) => Some(resolved),
        Err(error) => {
            ctx.error(
                DiagnosticCode::InvalidHref,
                at,
                el,
                format!("{name} \"{raw}\": {}", error.message()),
            );
            None
        }
    }
}

fn check_resources(ctx: &mut Ctx<'_>, resources: &[Resource], at: &str) {
    let ids: BTreeSet<&str> = resources.iter().map(|r| r.identifier.as_str()).collect();
    let mut seen = BTreeSet::new();
    for resource in resources {
        let resource_at = format!("{at}/resources/resource[{}]", resource.identifier);
        if !seen.insert(resource.identifier.as_str()) {
            ctx.error_at(
                DiagnosticCode::DuplicateIdentifier,
                &resource_at,
                0,
                format!(
                    "resource identifier '{}' is used twice",
                    resource.identifier
                ),
            );
        }
        for dependency in &resource.dependencies {
            if !ids.contains(dependency.as_str()) {
                ctx.error_at(
                    DiagnosticCode::UnknownReference,
                    &format!("{resource_at}/dependency"),
                    0,
                    format!("dependency identifierref '{dependency}' names no resource"),
                );
            }
        }
    }
}

/// Identifier indexes for the references items make, so a large course parses in linear time.
struct Refs<'m> {
    resources: HashMap<&'m str, &'m Resource>,
    collection: HashMap<&'m str, &'m Sequencing>,
}

impl<'m> Refs<'m> {
    fn new(manifest: &'m Manifest) -> Self {
        Refs {
            resources: manifest
                .resources
                .iter()
                .map(|r| (r.identifier.as_str(), r))
                .collect(),
            collection: manifest
                .sequencing_collection
                .iter()
                .filter_map(|s| s.id.as_deref().map(|id| (id, s)))
                .collect(),
        }
    }
}

fn organizations(ctx: &mut Ctx<'_>, el: &Element, at: &str, manifest: &mut Manifest) {
    let default = el.plain("default").map(|d| d.trim().to_owned());
    let refs = Refs::new(manifest);
    let mut organizations = Vec::new();
    for child in el.children_named(el.ns, "organization") {
        let child_at = location(at, child, None);
        if let Some(organization) = organization(ctx, child, &child_at, &refs) {
            organizations.push(organization);
        }
    }
    manifest.organizations = organizations;
    if manifest.organizations.is_empty() {
        ctx.error(
            DiagnosticCode::NoOrganization,
            at,
            el,
            "the package has no <organization>: it is a resource package with nothing to launch",
        );
        return;
    }
    manifest.default_organization = match default {
        Some(id) if manifest.organization(&id).is_some() => Some(id),
        Some(id) => {
            ctx.error(
                DiagnosticCode::UnknownDefaultOrganization,
                at,
                el,
                format!("default=\"{id}\" names no organization"),
            );
            None
        }
        None => {
            let first = manifest.organizations[0].identifier.clone();
            ctx.warn(
                DiagnosticCode::MissingAttribute,
                at,
                el,
                format!("<organizations> has no default; using the first, '{first}'"),
            );
            Some(first)
        }
    };
}

fn organization(
    ctx: &mut Ctx<'_>,
    el: &Element,
    at: &str,
    refs: &Refs<'_>,
) -> Option<Organization> {
    let identifier = ctx.required(el, "identifier", at)?;
    let title = title(ctx, el, at);
    let mut items = Vec::new();
    for child in el.children_named(el.ns, "item") {
        let child_at = location(at, child, None);
        if let Some(item) = item(ctx, child, &child_at, refs) {
            items.push(item);
        }
    }
    if items.is_empty() {
        ctx.error(
            DiagnosticCode::ItemStructure,
            at,
            el,
            "an organization needs at least one <item>",
        );
    }
    let sequencing = el
        .child(Ns::Imsss, "sequencing")
        .map(|s| effective_sequencing(ctx, s, &location(at, s, None), refs));
    Some(Organization {
        identifier,
        title,
        objectives_global_to_system: ctx.boolean(
            el,
            Ns::Adlseq,
            "objectivesGlobalToSystem",
            true,
            at,
        ),
        shared_data_global_to_system: ctx.boolean(
            el,
            Ns::Adlcp,
            "sharedDataGlobalToSystem",
            true,
            at,
        ),
        items,
        sequencing,
    })
}

fn title(ctx: &mut Ctx<'_>, el: &Element, at: &str) -> String {
    match el.child(el.ns, "title") {
        Some(title) => title.text().to_owned(),
        None => {
            ctx.warn(
                DiagnosticCode::MissingElement,
                at,
                el,
                format!("<{}> has no <title>", el.name),
            );
            String::new()
        }
    }
}

fn effective_sequencing(ctx: &mut Ctx<'_>, el: &Element, at: &str, refs: &Refs<'_>) -> Sequencing {
    let local = parse_sequencing(ctx, el, at);
    let Some(id_ref) = local.id_ref.clone() else {
        return local;
    };
    match refs.collection.get(id_ref.as_str()) {
        Some(shared) => local.merged_over(shared),
        None => {
            ctx.error(
                DiagnosticCode::UnknownSequencingReference,
                at,
                el,
                format!(
                    "IDRef=\"{id_ref}\" names no <imsss:sequencing> in the sequencingCollection"
                ),
            );
            local
        }
    }
}

fn item(ctx: &mut Ctx<'_>, el: &Element, at: &str, refs: &Refs<'_>) -> Option<Item> {
    let identifier = ctx.required(el, "identifier", at)?;
    let title = title(ctx, el, at);
    let is_2004 = ctx.version.is_none_or(ScormVersion::is_2004);
    let mut children = Vec::new();
    for child in el.children_named(el.ns, "item") {
        let child_at = location(at, child, None);
        if let Some(item) = item(ctx, child, &child_at, refs) {
            children.push(item);
        }
    }
    let identifierref = el.plain("identifierref").map(|r| r.trim().to_owned());
    let parameters = el.plain("parameters").map(str::to_owned);
    let mut launch = None;
    match &identifierref {
        Some(reference) => match refs.resources.get(reference.as_str()) {
            Some(resource) => match &resource.url {
                Some(url) => {
                    launch = Some(href::append_parameters(
                        url,
                        parameters.as_deref().unwrap_or_default(),
                    ))
                }
                None if resource.href.is_none() => ctx.error(
                    DiagnosticCode::ItemStructure,
                    at,
                    el,
                    format!(
                        "the item references resource '{reference}', which has no href to launch"
                    ),
                ),
                None => {}
            },
            None => ctx.error(
                DiagnosticCode::UnknownReference,
                at,
                el,
                format!("identifierref '{reference}' names no resource"),
            ),
        },
        None if children.is_empty() => {
            let message =
                "a leaf item needs an identifierref to a resource; it has nothing to launch";
            if is_2004 {
                ctx.error(DiagnosticCode::ItemStructure, at, el, message);
            } else {
                ctx.warn(DiagnosticCode::ItemStructure, at, el, message);
            }
        }
        None => {}
    }
    if identifierref.is_some() && !children.is_empty() && is_2004 {
        ctx.error(
            DiagnosticCode::ItemStructure,
            at,
            el,
            "in SCORM 2004 an item with child items cannot reference a resource",
        );
    }
    if parameters.is_some() && identifierref.is_none() {
        ctx.warn(
            DiagnosticCode::ItemStructure,
            at,
            el,
            "parameters on an item without identifierref are ignored",
        );
    }

    let adlcp_text = |name: &str| el.child(Ns::Adlcp, name).map(|c| c.text().to_owned());
    let mut item = Item {
        identifier,
        title,
        identifierref,
        launch,
        is_visible: ctx.boolean(el, Ns::None, "isvisible", true, at),
        parameters,
        prerequisites: None,
        max_time_allowed: None,
        time_limit_action: None,
        data_from_lms: None,
        mastery_score: None,
        completion_threshold: None,
        shared_data: Vec::new(),
        sequencing: None,
        hide_lms_ui: Vec::new(),
        items: children,
    };

    if is_2004 {
        item.data_from_lms = adlcp_text("dataFromLMS");
        item.time_limit_action = time_limit_action(ctx, el, at, "timeLimitAction");
        if let Some(threshold) = el.child(Ns::Adlcp, "completionThreshold") {
            item.completion_threshold =
                completion_threshold(ctx, threshold, &location(at, threshold, None));
        }
        if let Some(data) = el.child(Ns::Adlcp, "data") {
            let data_at = location(at, data, None);
            for (index, map) in data.children_named(Ns::Adlcp, "map").enumerate() {
                let map_at = location(&data_at, map, Some(index + 1));
                let Some(target_id) = ctx.required(map, "targetID", &map_at) else {
                    continue;
                };
                item.shared_data.push(DataMap {
                    target_id,
                    read_shared_data: ctx.boolean(map, Ns::None, "readSharedData", true, &map_at),
                    write_shared_data: ctx.boolean(
                        map,
                        Ns::None,
                        "writeSharedData",
                        false,
                        &map_at,
                    ),
                });
            }
        }
        if let Some(sequencing) = el.child(Ns::Imsss, "sequencing") {
            item.sequencing = Some(effective_sequencing(
                ctx,
                sequencing,
                &location(at, sequencing, None),
                refs,
            ));
        }
        item.hide_lms_ui = hide_lms_ui(ctx, el, at);
    } else {
        item.data_from_lms = adlcp_text("datafromlms");
        item.time_limit_action = time_limit_action(ctx, el, at, "timelimitaction");
        if let Some(prerequisites) = el.child(Ns::Adlcp, "prerequisites") {
            item.prerequisites = Some(Prerequisites {
                kind: prerequisites
                    .plain("type")
                    .unwrap_or("aicc_script")
                    .to_owned(),
                expression: prerequisites.text().to_owned(),
            });
        }
        if let Some(max_time) = el.child(Ns::Adlcp, "maxtimeallowed") {
            let value = max_time.text();
            if crate::runtime::parse_cmi_timespan(value).is_some() {
                item.max_time_allowed = Some(value.to_owned());
            } else {
                let max_at = location(at, max_time, None);
                ctx.warn(
                    DiagnosticCode::InvalidValue,
                    &max_at,
                    max_time,
                    format!(
                        "maxtimeallowed \"{value}\" is not a CMITimespan (HHHH:MM:SS.SS); ignored"
                    ),
                );
            }
        }
        if let Some(mastery) = el.child(Ns::Adlcp, "masteryscore") {
            let value = mastery.text();
            match parse_decimal(value) {
                Some(score) if (0.0..=100.0).contains(&score) => item.mastery_score = Some(score),
                _ => {
                    let mastery_at = location(at, mastery, None);
                    ctx.warn(
                        DiagnosticCode::InvalidValue,
                        &mastery_at,
                        mastery,
                        format!("masteryscore \"{value}\" is not a number from 0 to 100; ignored"),
                    );
                }
            }
        }
    }
    Some(item)
}

fn time_limit_action(
    ctx: &mut Ctx<'_>,
    el: &Element,
    at: &str,
    name: &str,
) -> Option<TimeLimitAction> {
    let child = el.child(Ns::Adlcp, name)?;
    let value = child.text();
    let parsed = TimeLimitAction::parse(value);
    if parsed.is_none() {
        let child_at = location(at, child, None);
        ctx.warn(
            DiagnosticCode::InvalidValue,
            &child_at,
            child,
            format!("{name} \"{value}\" is not one of exit,message; exit,no message; continue,message; continue,no message; ignored"),
        );
    }
    parsed
}

fn completion_threshold(ctx: &mut Ctx<'_>, el: &Element, at: &str) -> Option<CompletionThreshold> {
    let has_attributes = ["completedByMeasure", "minProgressMeasure", "progressWeight"]
        .iter()
        .any(|a| el.plain(a).is_some());
    if has_attributes || el.text().is_empty() {
        // 4th Edition: attributes, each with its default (CAM 4th Ed.).
        return Some(CompletionThreshold {
            completed_by_measure: ctx.boolean(el, Ns::None, "completedByMeasure", false, at),
            min_progress_measure: ctx.number(
                el,
                Ns::None,
                "minProgressMeasure",
                1.0,
                (0.0, 1.0),
                at,
            ),
            progress_weight: ctx.number(el, Ns::None, "progressWeight", 1.0, (0.0, 1.0), at),
        });
    }
    // 3rd Edition: the value is the threshold, and it always applies.
    let value = ctx.number_text(el, f64::NAN, (0.0, 1.0), at);
    (!value.is_nan()).then_some(CompletionThreshold {
        completed_by_measure: true,
        min_progress_measure: value,
        progress_weight: 1.0,
    })
}

fn hide_lms_ui(ctx: &mut Ctx<'_>, el: &Element, at: &str) -> Vec<HideLmsUi> {
    const VALUES: &[(&str, HideLmsUi)] = &[
        ("previous", HideLmsUi::Previous),
        ("continue", HideLmsUi::Continue),
        ("exit", HideLmsUi::Exit),
        ("exitAll", HideLmsUi::ExitAll),
        ("abandon", HideLmsUi::Abandon),
        ("abandonAll", HideLmsUi::AbandonAll),
        ("suspendAll", HideLmsUi::SuspendAll),
    ];
    let mut hidden = Vec::new();
    let Some(presentation) = el.child(Ns::Adlnav, "presentation") else {
        return hidden;
    };
    for interface in presentation.children_named(Ns::Adlnav, "navigationInterface") {
        for (index, hide) in interface
            .children_named(Ns::Adlnav, "hideLMSUI")
            .enumerate()
        {
            let value = hide.text();
            match VALUES.iter().find(|(token, _)| *token == value) {
                Some((_, control)) if !hidden.contains(control) => hidden.push(*control),
                Some(_) => {}
                None => {
                    let hide_at = format!(
                        "{at}/adlnav:presentation/adlnav:navigationInterface/adlnav:hideLMSUI[{}]",
                        index + 1
                    );
                    ctx.error(
                        DiagnosticCode::InvalidValue,
                        &hide_at,
                        hide,
                        format!("hideLMSUI \"{value}\" is not a navigation control"),
                    );
                }
            }
        }
    }
    hidden
}

/// `identifier`s are XML IDs: unique in the document (CAM). A clash between two items or two
/// resources is an error; an item sharing a resource's identifier is a warning, because many
/// authoring tools do it and nothing in SCORM confuses the two.
fn check_identifiers(ctx: &mut Ctx<'_>, manifest: &Manifest) {
    let mut structural: BTreeMap<&str, usize> = BTreeMap::new();
    for organization in &manifest.organizations {
        *structural
            .entry(organization.identifier.as_str())
            .or_default() += 1;
    }
    for item in manifest.items() {
        *structural.entry(item.identifier.as_str()).or_default() += 1;
    }
    for (id, count) in &structural {
        if *count > 1 {
            ctx.error_at(
                DiagnosticCode::DuplicateIdentifier,
                "/manifest/organizations",
                0,
                format!("identifier '{id}' is used by {count} organizations or items"),
            );
        }
    }
    for resource in &manifest.resources {
        if structural.contains_key(resource.identifier.as_str()) {
            let at = format!("/manifest/resources/resource[{}]", resource.identifier);
            let message = format!(
                "identifier '{}' is used by both an item or organization and a resource",
                resource.identifier
            );
            ctx.diagnostics.push(Diagnostic::warning(
                DiagnosticCode::DuplicateIdentifier,
                format!("{FILE}:{at}"),
                message,
            ));
        }
    }
}
