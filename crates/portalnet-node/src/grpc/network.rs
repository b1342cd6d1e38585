//! The gRPC `NetworkService`: network switch, directory search and Network accounts.

use super::State;
use crate::directory::client::directory_error;
use crate::grpc::error::IntoStatus;
use crate::grpc::error::to_status;
use portalnet_core::error::text;
use portalnet_core::user::UserKind;
use portalnet_proto::v1::{self as pb, network_service_server::NetworkService};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The portal's Network settings and search (R13–R16).
pub struct NetworkSvc(pub Arc<State>);

impl NetworkSvc {
    fn client(&self) -> Result<&crate::directory::client::DirectoryClient, Status> {
        self.0.directory.as_deref().ok_or_else(|| {
            crate::grpc::error::NodeError::precondition(text!("error-no-directory")).into_status()
        })
    }

    fn status(&self) -> Result<pb::NetworkStatus, Status> {
        let p = &self.0.portal;
        let n = p.network_setting().map_err(to_status)?;
        let from = n.available_from(self.0.activation_delay_ms);
        let published = if n.enabled { p.published_people().map_err(to_status)?.len() } else { 0 };
        Ok(pb::NetworkStatus {
            enabled: n.enabled,
            enabled_since: n.enabled_since.map_or(0, |t| t.0),
            cross_portal_available_from: from.map_or(0, |t| t.0),
            cross_portal_available_now: from.is_some_and(|t| p.now() >= t),
            directory_endpoint: self
                .0
                .directory
                .as_ref()
                .map(|d| d.link.endpoint.clone())
                .unwrap_or_default(),
            published: u32::try_from(published).unwrap_or(u32::MAX),
        })
    }

    async fn switch(
        &self,
        req: Request<pb::NetworkRequest>,
        enabled: bool,
    ) -> Result<Response<pb::NetworkStatus>, Status> {
        let actor = self.0.actor(&req)?;
        if !actor.admin {
            return Err(
                crate::grpc::error::NodeError::denied(text!("error-admins-switch-network")).into_status()
            );
        }
        let client = self.client()?;
        let _state = client.network_state.lock().await;
        let rec = client
            .set_network(enabled, self.0.portal.now())
            .await
            .map_err(|s| directory_error(&client.link, s))?;
        self.0.write(move |p| p.record_network(crate::directory::client::network_of(&rec))).await?;
        Ok(Response::new(self.status()?))
    }
}

#[tonic::async_trait]
impl NetworkService for NetworkSvc {
    async fn enable(&self, req: Request<pb::NetworkRequest>) -> Result<Response<pb::NetworkStatus>, Status> {
        self.switch(req, true).await
    }

    async fn disable(&self, req: Request<pb::NetworkRequest>) -> Result<Response<pb::NetworkStatus>, Status> {
        self.switch(req, false).await
    }

    async fn status(&self, req: Request<pb::NetworkRequest>) -> Result<Response<pb::NetworkStatus>, Status> {
        let actor = self.0.actor(&req)?;
        portalnet_portal::require_employee(&actor, "the portal's Network settings").map_err(to_status)?;
        Ok(Response::new(self.status()?))
    }

    async fn search(&self, req: Request<pb::SearchRequest>) -> Result<Response<pb::SearchResponse>, Status> {
        let actor = self.0.actor(&req)?;
        if actor.kind == UserKind::Extranet {
            return Err(
                crate::grpc::error::NodeError::denied(text!("error-extranet-no-search")).into_status()
            );
        }
        if !self.0.portal.network_setting().map_err(to_status)?.enabled {
            return Err(
                crate::grpc::error::NodeError::precondition(text!("error-search-network-off")).into_status()
            );
        }
        let client = self.client()?;
        let r = client
            .search(req.get_ref(), self.0.portal.now())
            .await
            .map_err(|s| directory_error(&client.link, s))?;
        Ok(Response::new(r))
    }

    /// R11: the caller changes the e-mail of their Network account; the old
    /// address is freed in the directory and on this portal.
    async fn set_account_email(
        &self,
        req: Request<pb::SetAccountEmailRequest>,
    ) -> Result<Response<pb::Account>, Status> {
        let actor = self.0.actor(&req)?;
        let email = portalnet_core::validate::email("email", &req.get_ref().email)
            .map_err(crate::NodeError::from)
            .map_err(to_status)?;
        let portal = &self.0.portal;
        portal.check_email_free_for(&actor.login, &email).map_err(to_status)?;
        let client = self.client()?;
        if !portal.network_setting().map_err(to_status)?.enabled {
            return Err(
                crate::grpc::error::NodeError::precondition(text!("error-no-network-accounts")).into_status()
            );
        }
        let account = client
            .change_account_email(&actor.login, &email, portal.now())
            .await
            .map_err(|s| directory_error(&client.link, s))?;
        let login = actor.login.clone();
        self.0.write(move |p| p.apply_account_email(&login, &email)).await?;
        Ok(Response::new(account))
    }

    /// R11: the caller's Network account with the addresses of other portals that
    /// asked to join it (published with its e-mail).
    async fn account_requests(
        &self,
        req: Request<pb::NetworkRequest>,
    ) -> Result<Response<pb::Account>, Status> {
        let actor = self.0.actor(&req)?;
        let client = self.client()?;
        let account = client
            .link_requests(&actor.login, self.0.portal.now())
            .await
            .map_err(|s| directory_error(&client.link, s))?;
        Ok(Response::new(account))
    }

    /// R11: the caller agrees that an address of another portal joins their
    /// Network account. Only the person can: the call names the caller only.
    async fn approve_account_link(
        &self,
        req: Request<pb::ApproveAccountLinkRequest>,
    ) -> Result<Response<pb::Account>, Status> {
        let actor = self.0.actor(&req)?;
        let address = req.get_ref().address.trim();
        if address.is_empty() {
            return Err(
                crate::grpc::error::NodeError::invalid(text!("error-link-address-required")).into_status()
            );
        }
        let client = self.client()?;
        let account = client
            .approve_link(&actor.login, address, self.0.portal.now())
            .await
            .map_err(|s| directory_error(&client.link, s))?;
        Ok(Response::new(account))
    }
}
