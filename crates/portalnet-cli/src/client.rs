//! The connection to a portal: channel, TLS and the bearer-token interceptor.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use portalnet_proto::v1::{
    group_service_client::GroupServiceClient, invitation_service_client::InvitationServiceClient,
    network_service_client::NetworkServiceClient, portal_service_client::PortalServiceClient,
    report_service_client::ReportServiceClient, task_service_client::TaskServiceClient,
    user_service_client::UserServiceClient,
};
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Status};

use crate::args::Global;

/// Adds `authorization: Bearer <token>` and `x-portal-language` (the language the
/// portal's refusals should be in) to every call.
#[derive(Clone)]
pub struct Auth(Option<AsciiMetadataValue>, Option<AsciiMetadataValue>);

impl Interceptor for Auth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        if let Some(v) = &self.1 {
            req.metadata_mut().insert("x-portal-language", v.clone());
        }
        Ok(req)
    }
}

/// `--language`, else the language of `LC_ALL`, `LC_MESSAGES` or `LANG` (`pl_PL.UTF-8` → `pl`).
fn language(global: &Global) -> Option<AsciiMetadataValue> {
    let from_env = || {
        ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
    };
    let tag = global.language.clone().or_else(from_env)?;
    let primary = tag.split(['_', '.', '@']).next()?.trim().to_string();
    MetadataValue::try_from(primary).ok()
}

pub type Svc = InterceptedService<Channel, Auth>;

/// A connection failure (as opposed to an error status from the portal); main
/// prints it with a hint about --endpoint/--ca.
#[derive(Debug)]
pub struct Unreachable {
    pub endpoint: String,
    pub cause: String,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "could not reach the portal at {}: {}; check --endpoint and --ca",
            self.endpoint, self.cause
        )
    }
}

impl std::error::Error for Unreachable {}

pub struct Conn {
    channel: Channel,
    auth: Auth,
}

impl Conn {
    pub async fn connect(global: &Global) -> Result<Self> {
        let auth = Auth(
            match &global.token {
                Some(t) if !t.trim().is_empty() => Some(
                    MetadataValue::try_from(format!("Bearer {}", t.trim()))
                        .map_err(|_| anyhow!("the token contains characters not allowed in a header"))?,
                ),
                _ => None,
            },
            language(global),
        );
        let endpoint = endpoint(global)?;
        // Connect eagerly so an unreachable portal or a TLS mismatch is reported
        // as such, not as the status of the first call.
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| Unreachable { endpoint: global.endpoint.clone(), cause: error_chain(&e) })?;
        Ok(Self { channel, auth })
    }

    pub fn users(&self) -> UserServiceClient<Svc> {
        UserServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn groups(&self) -> GroupServiceClient<Svc> {
        GroupServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn invitations(&self) -> InvitationServiceClient<Svc> {
        InvitationServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn tasks(&self) -> TaskServiceClient<Svc> {
        TaskServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn portal(&self) -> PortalServiceClient<Svc> {
        PortalServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn mail(&self) -> portalnet_proto::v1::mail_service_client::MailServiceClient<Svc> {
        portalnet_proto::v1::mail_service_client::MailServiceClient::with_interceptor(
            self.channel.clone(),
            self.auth.clone(),
        )
    }

    pub fn reports(&self) -> ReportServiceClient<Svc> {
        ReportServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn network(&self) -> NetworkServiceClient<Svc> {
        NetworkServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
}

fn endpoint(global: &Global) -> Result<Endpoint> {
    let url = global.endpoint.trim();
    let ep = Endpoint::from_shared(url.to_string())
        .map_err(|_| anyhow!("invalid endpoint '{url}'; expected e.g. https://127.0.0.1:7401"))?
        .connect_timeout(Duration::from_secs(10))
        // Generous: a whole attachment travels in one request.
        .timeout(Duration::from_secs(300));
    if url.starts_with("http://") {
        return Ok(ep);
    }
    if !url.starts_with("https://") {
        bail!("invalid endpoint '{url}': it must start with https:// or http://");
    }
    let Some(ca) = &global.ca else {
        bail!("an https endpoint needs the portal's certificate: pass --ca PEM_FILE or set PORTALCTL_CA");
    };
    let pem = std::fs::read(ca).with_context(|| format!("cannot read the CA file {}", ca.display()))?;
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        bail!("the CA file {} holds no PEM certificate", ca.display());
    }
    ep.tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
        .map_err(|e| anyhow!("cannot set up TLS for {url}: {}", error_chain(&e)))
}

/// An error and its sources on one line, skipping repeats (tonic often wraps
/// an error whose message already includes its source's).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let msg = e.to_string();
        if !msg.is_empty() && !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        cur = e.source();
    }
    parts.join(": ")
}
