//! The overview: the last hour of traffic — requests, cache hit ratio, origin failures and
//! transformation time per minute — as charts drawn on the server (SVG, no script), from the
//! numbers pixelway keeps itself ([`crate::metrics`]). Accounts see their own; the operator
//! sees the whole server.

use super::error::{DashboardError, render};
use super::shell::Shell;
use crate::shell::SignedIn;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use pixelway_api::App;
use pixelway_delivery::metrics::Minute;
use std::sync::Arc;

/// Drawing area of a chart, in SVG units.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 140.0;

/// One column of a chart.
struct Bar {
    x: String,
    y: String,
    width: String,
    height: String,
    /// The tooltip: minute and value.
    title: String,
}

/// One chart: a title, the hour's figure, and a column a minute.
struct Chart {
    id: &'static str,
    title: &'static str,
    /// After the peak's number (` %`, ` ms`).
    unit: &'static str,
    figure: String,
    peak: String,
    bars: Vec<Bar>,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    shell: Shell,
    charts: Vec<Chart>,
    /// `HH:MM` at the start, middle and end of the hour (UTC).
    ticks: [String; 3],
    accounts: usize,
    endpoints: usize,
}

/// `GET /dashboard`.
pub async fn page(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
) -> Result<Response, DashboardError> {
    let hour = app.delivery.metrics.last_hour(session.account.as_deref());
    let (accounts, endpoints) = {
        let catalog = app.control.catalog();
        match &session.account {
            None => (
                catalog.account_count(),
                catalog.accounts().map(|a| a.endpoints.len()).sum(),
            ),
            Some(id) => (1, catalog.account(id).map_or(0, |a| a.endpoints.len())),
        }
    };
    render(OverviewPage {
        shell: Shell::new("Overview", "overview", &session),
        charts: charts(&hour),
        ticks: [
            clock(hour.first()),
            clock(hour.get(hour.len() / 2)),
            clock(hour.last()),
        ],
        accounts,
        endpoints,
    })
}

fn clock(minute: Option<&Minute>) -> String {
    let minute = minute.map_or(0, |m| m.minute);
    format!("{:02}:{:02}", (minute / 60) % 24, minute % 60)
}

fn charts(hour: &[Minute]) -> Vec<Chart> {
    let sum = |f: fn(&Minute) -> u64| hour.iter().map(f).sum::<u64>();
    let (requests, hits) = (sum(|m| m.requests), sum(|m| m.hits));
    let (failures, transforms) = (sum(|m| m.origin_failures), sum(|m| m.transforms));
    let transform_micros = sum(|m| m.transform_micros);
    let ratio = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    vec![
        chart(
            ("requests", "Requests", ""),
            format!("{requests}"),
            hour,
            |m| (m.requests as f64, format!("{} requests", m.requests)),
        ),
        chart(
            ("hit-ratio", "Cache hit ratio", " %"),
            format!("{:.1} %", ratio(hits, requests) * 100.0),
            hour,
            |m| {
                let r = ratio(m.hits, m.requests) * 100.0;
                (r, format!("{r:.1} % of {} requests", m.requests))
            },
        ),
        chart(
            ("origin-failures", "Origin failures", ""),
            format!("{failures}"),
            hour,
            |m| {
                (
                    m.origin_failures as f64,
                    format!("{} failures", m.origin_failures),
                )
            },
        ),
        chart(
            ("transform-time", "Transformation time (average)", " ms"),
            format!("{:.1} ms", ratio(transform_micros, transforms) / 1000.0),
            hour,
            |m| {
                let ms = ratio(m.transform_micros, m.transforms) / 1000.0;
                (
                    ms,
                    format!("{ms:.1} ms over {} transformations", m.transforms),
                )
            },
        ),
    ]
}

/// A column chart of `value` per minute, scaled to its peak.
fn chart(
    (id, title, unit): (&'static str, &'static str, &'static str),
    figure: String,
    hour: &[Minute],
    value: impl Fn(&Minute) -> (f64, String),
) -> Chart {
    let values: Vec<(f64, String)> = hour.iter().map(value).collect();
    let peak = values.iter().map(|(v, _)| *v).fold(0.0, f64::max);
    let slot = WIDTH / hour.len().max(1) as f64;
    let bars = values
        .iter()
        .zip(hour)
        .enumerate()
        .map(|(i, ((v, text), minute))| {
            let height = if peak > 0.0 { v / peak * HEIGHT } else { 0.0 };
            Bar {
                x: format!("{:.1}", i as f64 * slot + 1.0),
                y: format!("{:.1}", HEIGHT - height),
                width: format!("{:.1}", (slot - 2.0).max(1.0)),
                height: format!("{height:.1}"),
                title: format!("{} UTC: {text}", clock(Some(minute))),
            }
        })
        .collect();
    Chart {
        id,
        title,
        unit,
        figure,
        peak: if peak >= 10.0 {
            format!("{peak:.0}")
        } else {
            format!("{peak:.1}")
        },
        bars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_scale_to_the_peak_and_ratios_are_per_minute() {
        let hour = vec![
            Minute {
                minute: 60,
                requests: 4,
                hits: 1,
                ..Minute::default()
            },
            Minute {
                minute: 61,
                requests: 2,
                hits: 2,
                ..Minute::default()
            },
        ];
        let charts = charts(&hour);
        assert_eq!(charts[0].figure, "6");
        assert_eq!(charts[0].bars[0].height, "140.0");
        assert_eq!(charts[0].bars[1].height, "70.0");
        assert_eq!(charts[1].figure, "50.0 %");
        assert_eq!(charts[1].bars[1].height, "140.0", "100 % is the peak");
        assert_eq!(charts[0].bars[0].title, "01:00 UTC: 4 requests");
    }
}
