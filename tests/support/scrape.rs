//! Scraping a node's Prometheus endpoint over plain HTTP and reading it with a
//! real exposition-format parser (`prometheus-parse`).

use anyhow::{Context, Result, bail};
use prometheus_parse::{Scrape, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// GETs `url` (`http://host:port/path`) and parses the body.
pub async fn scrape(url: &str) -> Result<Scrape> {
    let rest = url.strip_prefix("http://").context("metrics url must be http://")?;
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let mut s = tokio::net::TcpStream::connect(host).await?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let text = String::from_utf8(buf)?;
    let (head, body) = text.split_once("\r\n\r\n").context("no HTTP body")?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        bail!("{url}: {head}");
    }
    if !head.to_ascii_lowercase().contains("content-type: text/plain; version=0.0.4") {
        bail!("{url}: not the exposition format: {head}");
    }
    Ok(Scrape::parse(body.lines().map(|l| Ok(l.to_string())))?)
}

/// The sum of the samples of `name` whose labels include `labels` (0 if none).
pub fn value(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match &x.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(b) => b.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

/// The values label `label` takes among the samples of `name`.
pub fn label_values(s: &Scrape, name: &str, label: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .samples
        .iter()
        .filter(|x| x.metric == name)
        .filter_map(|x| x.labels.get(label).map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}
