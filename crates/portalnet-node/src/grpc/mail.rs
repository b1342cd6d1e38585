//! The gRPC `MailService`: a user's task address and e-mail participants' links.

use super::State;
use crate::grpc::error::IntoStatus;
use crate::grpc::error::to_status;
use portalnet_portal::paging::PageReq;
use portalnet_proto::v1::{self as pb, mail_service_server::MailService};
use portalnet_store::schema::{MailAddressRecord, TaskLinkRecord};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Secret task addresses and e-mail participants' links (R18–R22).
pub struct MailSvc(pub Arc<State>);

impl MailSvc {
    fn address(&self, rec: &MailAddressRecord) -> pb::MailAddress {
        pb::MailAddress {
            login: rec.login.clone(),
            address: self.0.portal.task_address_string(rec),
            created_at_ms: rec.created_at.0,
        }
    }
}

fn link(l: &TaskLinkRecord) -> pb::TaskLink {
    pb::TaskLink {
        task_id: l.task,
        participant: l.participant.clone(),
        revoked: l.revoked,
        created_at_ms: l.created_at.0,
        notices_sent: l.notices_sent,
    }
}

#[tonic::async_trait]
impl MailService for MailSvc {
    async fn show_address(
        &self,
        req: Request<pb::MailAddressRequest>,
    ) -> Result<Response<pb::MailAddress>, Status> {
        let actor = self.0.actor(&req)?;
        let login = req.get_ref().login.trim();
        if !login.is_empty() && login != actor.login {
            return Err(crate::grpc::error::NodeError::denied(portalnet_core::error::text!(
                "error-task-address-owner"
            ))
            .into_status());
        }
        let rec = self.0.write(move |p| p.task_address(&actor)).await?;
        Ok(Response::new(self.address(&rec)))
    }

    async fn reset_address(
        &self,
        req: Request<pb::MailAddressRequest>,
    ) -> Result<Response<pb::MailAddress>, Status> {
        let actor = self.0.actor(&req)?;
        let login = req.get_ref().login.trim();
        let login = if login.is_empty() { actor.login.clone() } else { login.to_string() };
        let (a, l) = (actor.clone(), login.clone());
        let rec = self.0.write(move |p| p.reset_task_address(&a, &l)).await?;
        let mut out = self.address(&rec);
        if login != actor.login {
            // The new secret is its owner's: they see it with `mail address show`.
            out.address = String::new();
        }
        Ok(Response::new(out))
    }

    async fn list_links(
        &self,
        req: Request<pb::ListLinksRequest>,
    ) -> Result<Response<pb::ListLinksResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.get_ref();
        let page =
            PageReq::parse(r.page_size, &r.page_token, &format!("links|{}", r.task_id)).map_err(to_status)?;
        let page = self.0.portal.task_links_page(&actor, r.task_id, &page).map_err(to_status)?;
        Ok(Response::new(pb::ListLinksResponse {
            links: page.items.iter().map(link).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn revoke_link(
        &self,
        req: Request<pb::RevokeLinkRequest>,
    ) -> Result<Response<pb::TaskLink>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let l = self.0.write(move |p| p.revoke_link(&actor, r.task_id, &r.address)).await?;
        Ok(Response::new(link(&l)))
    }
}
