//! The delivery path: one request, as a list of named steps.
//!
//! route → authorize (signature, private files) → parse transformation → find the original (origin chain) → default
//! image → transform (result cache, worker pool) → respond. Each step is one function; errors are [`DeliveryError`]s, mapped to HTTP in one place.

use crate::{Answer, Attempt, FetchFail, Rendition, ResultFrom, Sources};
use crate::{answer, chain, layer_inputs, original, respond, transform};

use crate::Delivery;
use crate::error::DeliveryError;
use crate::forwarded::Peer;
use answer::Made;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use original::Original;
use pixelway_control::catalog::{Account, Endpoint};
use pixelway_route::signature::SignatureError;
use pixelway_route::{Route, Signed};
use pixelway_transform::pipeline::{FormatChoice, depends_on_accept};
use pixelway_transform::{ClientHints, Transformation, UsedHints};
use respond::Extra;
use std::sync::Arc;

/// The axum handler for delivery URLs the router sees (its fallback, and custom domains' paths
/// that look like the management API's).
pub async fn deliver(
    State(app): State<Arc<Delivery>>,
    peer: Peer,
    request: axum::extract::Request,
) -> Response {
    let (method, uri, headers) = (request.method(), request.uri(), request.headers());
    let (mut response, served) = deliver_to(&app, peer, method, uri, headers, true).await;
    if let Some(served) = served {
        response.extensions_mut().insert(served);
    }
    response
}

/// Answers one delivery request and counts it in the metrics; with what was served (for the
/// access line) when `describe`.
pub async fn deliver_to(
    app: &Delivery,
    peer: Peer,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    describe: bool,
) -> (Response, Option<crate::access_log::Served>) {
    let mut probe = Probe {
        peer,
        ..Probe::default()
    };
    let response = match serve(app, method, uri, headers, &mut probe).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    let fetched = probe.attempts.iter().any(|a| a.fetched);
    probe.sample.hit =
        response.status().is_success() && probe.sample.transform.is_none() && !fetched;
    probe.sample.origin_failures = probe.attempts.iter().filter(|a| a.failed).count() as u32;
    app.metrics.record(probe.account.as_deref(), probe.sample);
    let served = if describe {
        served(probe, fetched)
    } else {
        None
    };
    (response, served)
}

/// What the access line says of a request delivery answered (`fetched`: from a remote origin
/// just now): its account, the tier and the origin the bytes came from.
fn served(probe: Probe, fetched: bool) -> Option<crate::access_log::Served> {
    let account = probe.account?;
    let served = probe
        .attempts
        .iter()
        .rev()
        .find(|a| a.outcome == "found" || a.outcome == "cached");
    let cached = probe
        .result_from
        .is_some_and(|from| from != ResultFrom::Transformation);
    let tier = match (probe.sample.transform.is_some(), fetched, served) {
        _ if probe.from_memory.is_some() => "memory",
        _ if probe.result_from == Some(ResultFrom::Shared) => "shared",
        (true, _, _) => "transformed",
        (false, true, _) => "origin",
        (false, false, Some(a)) if a.outcome == "cached" => "cache",
        (false, false, Some(a))
            if !cached && a.origin == pixelway_control::catalog::MEDIA_LIBRARY =>
        {
            "library"
        }
        // A `local_folder` origin: read from the server's disk, but an origin all the same.
        (false, false, Some(_)) if !cached => "origin",
        (false, false, Some(_)) => "cache",
        (false, false, None) => "",
    };
    let origin = match probe.from_memory {
        Some(origin) => origin,
        None => served.map(|a| a.origin.clone()).unwrap_or_default(),
    };
    Some(crate::access_log::Served {
        account,
        tier,
        origin,
    })
}

/// What serving one request went through: the account it was routed to, every origin tried,
/// the transformation's time. [`probe`] also keeps the route and the parsed transformation.
#[derive(Debug, Default)]
pub struct Probe {
    pub account: Option<String>,
    pub attempts: Vec<Attempt>,
    pub sample: crate::metrics::RequestSample,
    /// Keep the route and transformation (the URL tester asks for them).
    detailed: bool,
    pub route: Option<Route>,
    /// The transformation in canonical form (named transformations expanded).
    pub transformation: Option<String>,
    /// Where a transformed answer came from (`None`: no transformation).
    pub result_from: Option<ResultFrom>,
    /// The answer came from the memory tier (with the name of the origin it came from).
    pub from_memory: Option<String>,
    /// The connection's peer (a trusted proxy's forwarded host counts).
    peer: Peer,
}

impl Probe {
    /// A transformation step ended (started at `started`): its result came `from` there.
    fn took_transformation(&mut self, from: ResultFrom, started: std::time::Instant) {
        self.sample.transform = (from == ResultFrom::Transformation).then(|| started.elapsed());
        self.result_from = Some(from);
    }
}

/// Serves `uri` as delivery would for a GET with `headers`, and says how: the URL tester's
/// view. The trace is always taken; nothing is counted in the metrics.
pub async fn probe(app: &Delivery, uri: &Uri, headers: &HeaderMap) -> (Response, Probe) {
    let mut probe = Probe {
        detailed: true,
        ..Probe::default()
    };
    let response = match serve(app, &Method::GET, uri, headers, &mut probe).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    (response, probe)
}

async fn serve(
    app: &Delivery,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    probe: &mut Probe,
) -> Result<Response, DeliveryError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(DeliveryError::Method);
    }
    let catalog = app.control.catalog();
    let route = route_request(
        &catalog,
        uri,
        headers,
        probe.peer,
        &app.settings.trusted_proxies,
    )?;
    let (account, endpoint) = catalog
        .endpoint(&route.account, &route.identifier)
        .ok_or_else(|| DeliveryError::Internal("routed to a missing endpoint".into()))?;
    probe.account = Some(route.account.clone());
    if probe.detailed {
        probe.route = Some(route.clone());
    }
    let access = authorize(app, &route, account, endpoint, headers).await?;
    let tracing_allowed = access.tracing_allowed || probe.detailed;
    let (path, thumbnail) = file_of(&route);
    // An answer held in memory for exactly this request: no parsing, no file, no origin.
    let download = attachment(&route);
    // Downloads are rare and carry their own header: never held in memory.
    let memory_key = (!tracing_allowed && download.is_none() && app.memory().is_on()).then(|| {
        crate::cache_keys::answer(crate::cache_keys::AnswerRequest {
            endpoint_id: &endpoint.record.id,
            path: route.file.as_str(),
            path_transformation: route.path_transformation.as_deref(),
            query_transformation: route.query_transformation.as_deref(),
            accepts: accepts(headers),
            hints: client_hints(headers),
            signed: access.signed,
        })
    });
    let usable = |held: &Answer| {
        held.account_generation == account.generation
            && held.is_fresh(std::time::Instant::now())
            && held
                .depends_on
                .iter()
                .all(|stamp| app.memory().is_current(*stamp))
    };
    if let Some(held) = memory_key
        .as_deref()
        .and_then(|key| app.memory().get(key, usable))
    {
        probe.from_memory = Some(held.origin_name.clone());
        return respond::respond(&held, headers);
    }
    // Taken before anything is read: a write or purge from now on refuses what is made here.
    let stamp = app
        .memory()
        .stamp(crate::cache_keys::file_scope(&route.account, path));
    // And of each folder the file lies in: a wildcard purge reaches the answers below it.
    let folder_stamps: Vec<_> = crate::cache_keys::folders_of(path)
        .map(|folder| {
            app.memory()
                .stamp(crate::cache_keys::folder_scope(&route.account, folder))
        })
        .collect();
    let mut transformation = parse_transformation(&route, account, endpoint)?;
    if thumbnail {
        transformation = Some(as_thumbnail(transformation));
    }
    let used_hints = transformation
        .as_mut()
        .map(|t| t.resolve_client_hints(client_hints(headers)))
        .unwrap_or_default();
    if let Some(t) = transformation.as_mut().filter(|t| t.wants_custom_focus()) {
        t.resolve_custom_focus(custom_coordinates(app, &route.account, path).await?);
    }
    if probe.detailed {
        probe.transformation = transformation.as_ref().map(Transformation::canonical);
    }
    // The files overlay layers read: their stamps are taken before they are looked up, like the
    // original's, so a held answer goes stale when any of them is written or purged.
    let layer_paths = transformation
        .as_ref()
        .filter(|t| t.needs_processing())
        .map(Transformation::layer_inputs)
        .unwrap_or_default();
    let layer_stamps: Vec<_> = layer_paths
        .iter()
        .map(|p| {
            app.memory()
                .stamp(crate::cache_keys::file_scope(&route.account, p))
        })
        .collect();
    let attempts = &mut probe.attempts;
    let found = chain::find(
        app,
        &route.account,
        &route.identifier,
        &endpoint.chain,
        path,
        attempts,
    )
    .await;
    let (original, is_default) = match found {
        Ok(original) => (original, false),
        Err(not_found @ DeliveryError::NotFound { .. }) => {
            let requested = transformation.as_ref().and_then(|t| t.default_image());
            match default_image(app, account, endpoint, requested, &access, attempts).await {
                Some(original) => (original, true),
                None => return Err(with_trace(not_found, tracing_allowed, attempts)),
            }
        }
        Err(other) => return Err(other),
    };
    let origin_name = original.origin_name.clone();
    let untransformed = transformation.is_none();
    let (made, negotiated): (Made, bool) = match transformation.filter(|t| t.needs_processing()) {
        Some(t) => {
            let started = std::time::Instant::now();
            let layers =
                layer_inputs::find_all(app, account, endpoint, &layer_paths, access.signed).await?;
            let sources = Sources {
                original: &original,
                layers: &layers,
            };
            let (result, negotiated, from) =
                transform_step(app, account, endpoint, path, sources, &t, headers).await?;
            probe.took_transformation(from, started);
            (result.into(), negotiated)
        }
        None if untransformed => {
            best_format_original(app, account, endpoint, path, original, headers, probe).await
        }
        None => (original.into(), false),
    };
    let mut extra = response_headers(
        app,
        account,
        &origin_name,
        is_default,
        tracing_allowed,
        &probe.attempts,
    );
    add_vary(&mut extra, negotiated, used_hints);
    if let Some(disposition) = download {
        extra.headers.push(("content-disposition", disposition));
    }
    let mut answer = Answer::new(made, &extra, account.generation, origin_name);
    answer.depends_on = layer_stamps;
    answer.depends_on.extend(folder_stamps);
    if let Some(key) = memory_key
        && !is_default
        && app.memory().admits(answer.body.len())
        && let Some(in_memory) = answer.in_memory().await
    {
        let response = respond::respond(&in_memory, headers);
        app.memory().insert(key, stamp, in_memory);
        return response;
    }
    respond::respond(&answer, headers)
}

/// The custom coordinates (`x, y, width, height`) of `path` in `account`'s Media Library, for
/// `fo-custom`; `None` for files without them or from other origins.
async fn custom_coordinates(
    app: &Delivery,
    account: &str,
    path: &str,
) -> Result<Option<[u32; 4]>, DeliveryError> {
    let file = app
        .control
        .store()
        .file_by_path(account, path)
        .await
        .map_err(|e| DeliveryError::Internal(format!("file lookup: {e}")))?;
    Ok(file
        .and_then(|f| f.custom_coordinates)
        .and_then(|text| pixelway_store::parse_custom_coordinates(&text))
        .filter(|[_, _, width, height]| *width > 0 && *height > 0))
}

/// The file a URL asks for, and whether it asks for its thumbnail: `<file>/ik-thumbnail.jpg` is
/// `<file>`'s first frame (or the one `pg-<n>` names) as a JPEG, as ImageKit names it.
fn file_of(route: &Route) -> (&str, bool) {
    match route.file.as_str().strip_suffix("/ik-thumbnail.jpg") {
        Some(file) if !file.is_empty() => (file, true),
        _ => (route.file.as_str(), false),
    }
}

/// `transformation` (if any) ending in a JPEG, for `ik-thumbnail.jpg`.
fn as_thumbnail(transformation: Option<Transformation>) -> Transformation {
    let mut thumbnail = transformation.unwrap_or_default();
    thumbnail.steps.push(pixelway_transform::Step {
        format: Some(pixelway_transform::Format::Jpeg),
        ..Default::default()
    });
    thumbnail
}

/// `?ik-attachment=true`: `Content-Disposition: attachment` named after the path's last
/// segment (`filename` with anything unsafe in a quoted string replaced, and `filename*` with
/// the exact UTF-8 name).
fn attachment(route: &Route) -> Option<String> {
    if route.query.get("ik-attachment") != Some("true") {
        return None;
    }
    let name = route.file.as_str().rsplit('/').next().unwrap_or("file");
    let plain: String = name
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '_',
        })
        .collect();
    let exact = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    Some(format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{exact}"
    ))
}

/// `Vary` for what the answer was chosen by (`Accept` for a negotiated format, the client
/// hints `w-auto`/`dpr-auto` read), and `Accept-CH` asking for those hints.
fn add_vary(extra: &mut Extra, negotiated: bool, hints: UsedHints) {
    let mut vary = Vec::new();
    if negotiated {
        vary.push("Accept");
    }
    let mut asked = Vec::new();
    if hints.width {
        asked.push("Sec-CH-Width");
    }
    if hints.dpr {
        asked.push("Sec-CH-DPR");
    }
    vary.extend(&asked);
    if !vary.is_empty() {
        extra.headers.push(("vary", vary.join(", ")));
    }
    if !asked.is_empty() {
        extra.headers.push(("accept-ch", asked.join(", ")));
    }
}

/// The client hints of a request (`Sec-CH-Width`/`Sec-CH-DPR`, or the older `Width`/`DPR`).
fn client_hints(headers: &HeaderMap) -> ClientHints {
    const SEC_CH_WIDTH: HeaderName = HeaderName::from_static("sec-ch-width");
    const WIDTH: HeaderName = HeaderName::from_static("width");
    const SEC_CH_DPR: HeaderName = HeaderName::from_static("sec-ch-dpr");
    const DPR: HeaderName = HeaderName::from_static("dpr");
    let number = |names: [HeaderName; 2]| {
        names.iter().find_map(|name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
    };
    ClientHints {
        width: number([SEC_CH_WIDTH, WIDTH])
            .filter(|w| *w >= 1.0 && *w <= 100_000.0)
            .map(|w| w.ceil() as u32),
        dpr: number([SEC_CH_DPR, DPR]),
    }
}

/// The two facts of `Accept` an answer can depend on: WebP and AVIF accepted.
fn accepts(headers: &HeaderMap) -> (bool, bool) {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (accept.contains("image/webp"), accept.contains("image/avif"))
}

/// Step 1: Host + path + query → route. The host is named by [`crate::forwarded::request_host`]:
/// the target's own authority, else the one `Host` header; a proxy's forwarded host only from
/// `server.trusted_proxies`.
pub fn route_request(
    catalog: &pixelway_control::catalog::Catalog,
    uri: &Uri,
    headers: &HeaderMap,
    peer: Peer,
    trusted_proxies: &[ipnet::IpNet],
) -> Result<Route, DeliveryError> {
    let host = crate::forwarded::request_host(uri, headers, peer, trusted_proxies)
        .map_err(|_| DeliveryError::Host("more than one Host header"))?;
    Ok(pixelway_route::route(
        catalog,
        &host,
        uri.path(),
        uri.query(),
    )?)
}

/// What a request may see, decided in step 2.
struct Access {
    /// The URL carries a valid signature: private files may be served.
    signed: bool,
    /// The operator's token was given: the `x-pixelway-trace` header is added.
    tracing_allowed: bool,
}

/// Step 2: who may see what. A signature, when present, must be valid (401 otherwise); it is
/// required on `signed_urls_only` endpoints and for private Media Library files.
async fn authorize(
    app: &Delivery,
    route: &Route,
    account: &Account,
    endpoint: &Endpoint,
    headers: &HeaderMap,
) -> Result<Access, DeliveryError> {
    let tracing_allowed = operator_token_given(app, headers);
    let signed = route.verify_signature(&account.record.private_key, unix_now())?;
    if signed == Signed::No {
        let must_sign =
            endpoint.record.signed_urls_only || is_private(app, account, file_of(route).0).await?;
        if must_sign {
            return Err(SignatureError::Missing.into());
        }
    }
    Ok(Access {
        signed: signed == Signed::Valid,
        tracing_allowed,
    })
}

/// Whether `path` is a private file of `account`'s Media Library (asked only of accounts that
/// have private files).
pub(crate) async fn is_private(
    app: &Delivery,
    account: &Account,
    path: &str,
) -> Result<bool, DeliveryError> {
    if !account.has_private_files {
        return Ok(false);
    }
    app.control
        .is_private_file(&account.record.id, path)
        .await
        .map_err(|e| DeliveryError::Internal(format!("private file lookup: {e}")))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether the request carries the operator's token (compared in constant time).
fn operator_token_given(app: &Delivery, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
    else {
        return false;
    };
    pixelway_control::credentials::admin_token_matches(&app.settings.admin_token, token)
}

/// Step 3: parse the transformation (path and query forms, named transformations expanded) and
/// apply the endpoint's policy. Bad parameters answer 400 before any origin is asked.
fn parse_transformation(
    route: &Route,
    account: &Account,
    endpoint: &Endpoint,
) -> Result<Option<Transformation>, DeliveryError> {
    let Some(text) = route.transformation() else {
        return Ok(None);
    };
    let named = |name: &str| account.named_transformations.get(name).cloned();
    let transformation = Transformation::parse(&text, &named)?;
    if endpoint.record.named_transformations_only && transformation.has_explicit_parameters {
        return Err(DeliveryError::NamedTransformationsOnly);
    }
    Ok(Some(transformation))
}

/// Step 6: transform the original (through the result caches); says whether the output format
/// depended on `Accept`, and where the result came from.
async fn transform_step(
    app: &Delivery,
    account: &Account,
    endpoint: &Endpoint,
    path: &str,
    sources: Sources<'_>,
    transformation: &Transformation,
    headers: &HeaderMap,
) -> Result<(Rendition, bool, ResultFrom), DeliveryError> {
    let (accepts_webp, accepts_avif) = accepts(headers);
    let choice = FormatChoice {
        accepts_webp,
        accepts_avif,
        best_format: account
            .record
            .settings
            .use_best_format
            .unwrap_or(app.settings.best_format),
        auto_avif: account
            .record
            .settings
            .auto_avif
            .unwrap_or(app.settings.auto_avif),
    };
    let negotiated = depends_on_accept(transformation.format(), choice.best_format);
    let choice = choice.relevant_to(transformation.format());
    let endpoint_id = &endpoint.record.id;
    let (result, from) = transform::transformed(
        app,
        &account.record.id,
        endpoint_id,
        path,
        sources,
        transformation,
        choice,
    )
    .await?;
    Ok((result, negotiated, from))
}

/// Step 6 for an untransformed URL, as ImageKit's "use best format" does it: a JPEG or PNG is
/// answered in the best format the client accepts (WebP, or AVIF where the account allows it)
/// at the default quality, through the same result cache and worker pool as any
/// transformation — unless the converted file is not smaller, the setting is off, or the input
/// is anything else (GIF, SVG, WebP, non-images, `orig-true`), which keep their bytes. The
/// answer depends on `Accept` whenever the setting applies (`Vary: Accept`). A conversion that
/// fails for any reason serves the original rather than an error.
async fn best_format_original(
    app: &Delivery,
    account: &Account,
    endpoint: &Endpoint,
    path: &str,
    original: Original,
    headers: &HeaderMap,
    probe: &mut Probe,
) -> (Made, bool) {
    let best_format = account
        .record
        .settings
        .use_best_format
        .unwrap_or(app.settings.best_format);
    if !best_format || !matches!(original.content_type.as_str(), "image/jpeg" | "image/png") {
        return (original.into(), false);
    }
    let (accepts_webp, accepts_avif) = accepts(headers);
    let auto_avif = account
        .record
        .settings
        .auto_avif
        .unwrap_or(app.settings.auto_avif);
    let can_convert = accepts_webp || (auto_avif && accepts_avif);
    if !can_convert {
        return (original.into(), true);
    }
    let Ok(implicit) = Transformation::parse("f-auto", &|_| None) else {
        return (original.into(), true);
    };
    let started = std::time::Instant::now();
    let sources = Sources {
        original: &original,
        layers: &[],
    };
    let converted = transform_step(app, account, endpoint, path, sources, &implicit, headers).await;
    match converted {
        Ok((result, _, from)) => {
            probe.took_transformation(from, started);
            // Never a larger file than the one stored.
            if result.body.len < original.body.len {
                (result.into(), true)
            } else {
                (original.into(), true)
            }
        }
        Err(error) => {
            tracing::debug!(%error, "best-format conversion failed; serving the original");
            (original.into(), true)
        }
    }
}

/// Step 5: the default image (a Media Library path) when no origin has the file: the one the
/// URL names with `di-`, else the endpoint's.
async fn default_image(
    app: &Delivery,
    account: &Account,
    endpoint: &Endpoint,
    requested: Option<&str>,
    access: &Access,
    attempts: &mut Vec<Attempt>,
) -> Option<Original> {
    let path = requested.or(endpoint.record.default_image.as_deref())?;
    let path = pixelway_route::FilePath::from_decoded(path.trim_start_matches('/')).ok()?;
    if !access.signed
        && is_private(app, account, path.as_str())
            .await
            .unwrap_or(true)
    {
        // A private file is never a way around its own signature requirement.
        return None;
    }
    let started = std::time::Instant::now();
    let result = chain::try_origin(
        app,
        &account.record.id,
        &account.media_library,
        path.as_str(),
    )
    .await;
    attempts.push(Attempt {
        origin: format!("default-image:{}", account.media_library.name),
        outcome: match &result {
            Ok(_) => "found".to_string(),
            Err(fail) => fail.label(),
        },
        elapsed: started.elapsed(),
        fetched: false,
        failed: matches!(result, Err(FetchFail::Failed(_))),
    });
    result.ok().map(|(original, _)| original)
}

/// Step 6 (headers): cache lifetime, origin name, default-image marker, trace.
fn response_headers(
    app: &Delivery,
    account: &Account,
    origin_name: &str,
    is_default: bool,
    tracing_allowed: bool,
    attempts: &[Attempt],
) -> Extra {
    let for_clients = if is_default {
        format!(
            "public, max-age={}",
            app.settings.default_image_max_age.as_secs()
        )
    } else {
        format!("public, max-age={}", app.settings.cache_max_age.as_secs())
    };
    let mut extra = Extra {
        // The trace describes the operator's view of the origins: never for shared caches.
        cache_control: match tracing_allowed {
            true => PRIVATE_NO_STORE.to_string(),
            false => for_clients.clone(),
        },
        headers: Vec::new(),
    };
    if !account.record.settings.hide_origin_header {
        extra
            .headers
            .push(("x-pixelway-origin", origin_name.to_string()));
    }
    if is_default {
        extra
            .headers
            .push(("x-pixelway-default-image", "true".into()));
    }
    if tracing_allowed {
        extra
            .headers
            .push(("x-pixelway-trace", format_trace(attempts)));
        extra.headers.push((CLIENT_CACHE_CONTROL, for_clients));
    }
    extra
}

/// On a traced answer: the `Cache-Control` a client without the trace gets (the URL tester
/// shows that one).
pub const CLIENT_CACHE_CONTROL: &str = "x-pixelway-client-cache-control";

/// `Cache-Control` of every answer that carries the operator's trace.
pub(crate) const PRIVATE_NO_STORE: &str = "private, no-store";

fn format_trace(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .map(|a| {
            format!(
                "{}={} {:.1}ms",
                a.origin,
                a.outcome,
                a.elapsed.as_secs_f64() * 1000.0
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A not-found answer carries the trace too, when allowed.
fn with_trace(mut error: DeliveryError, allowed: bool, attempts: &[Attempt]) -> DeliveryError {
    if let DeliveryError::NotFound { trace, .. } = &mut error
        && allowed
    {
        *trace = Some(format_trace(attempts));
    }
    error
}
