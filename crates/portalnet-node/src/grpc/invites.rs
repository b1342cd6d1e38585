//! The gRPC `InvitationService`: inviting, listing, resending, revoking and accepting.

use super::State;
use crate::grpc::convert::{ToProto, group_id, invitation_to_proto, invite_response};
use crate::grpc::error::IntoStatus;
use crate::grpc::error::to_status;
use portalnet_portal::paging::PageReq;
use portalnet_proto::v1::{self as pb, invitation_service_server::InvitationService};
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct InvitationSvc(pub Arc<State>);

impl InvitationSvc {
    fn group_name(&self, id: u64) -> String {
        self.0.portal.tables.groups.get(&id).ok().flatten().map(|g| g.name).unwrap_or_default()
    }
}

#[tonic::async_trait]
impl InvitationService for InvitationSvc {
    async fn invite(&self, req: Request<pb::InviteRequest>) -> Result<Response<pb::InviteResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let group = group_id(r.group_id).map_err(to_status)?;
        let (email, language) = (r.email, r.language);
        let invited = self.0.write(move |p| p.invite(&actor, &email, group, &language)).await?;
        let name = self.group_name(invited.invitation.group);
        Ok(Response::new(invite_response(&invited, &name, self.0.portal.now())))
    }

    async fn list_invitations(
        &self,
        req: Request<pb::ListInvitationsRequest>,
    ) -> Result<Response<pb::ListInvitationsResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.get_ref();
        let page =
            PageReq::parse(r.page_size, &r.page_token, &format!("invitations|{}|{}", r.group_id, r.all))
                .map_err(to_status)?;
        let page = self
            .0
            .portal
            .list_invitations(&actor, (r.group_id != 0).then_some(r.group_id), r.all, &page)
            .map_err(to_status)?;
        let now = self.0.portal.now();
        Ok(Response::new(pb::ListInvitationsResponse {
            invitations: page
                .items
                .iter()
                .map(|i| invitation_to_proto(i, &self.group_name(i.group), now))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn resend(&self, req: Request<pb::InvitationRef>) -> Result<Response<pb::Invitation>, Status> {
        let actor = self.0.actor(&req)?;
        let id = invitation_id(req.get_ref().id)?;
        let inv = self.0.write(move |p| p.resend_invitation(&actor, id)).await?;
        Ok(Response::new(invitation_to_proto(&inv, &self.group_name(inv.group), self.0.portal.now())))
    }

    async fn revoke(&self, req: Request<pb::InvitationRef>) -> Result<Response<pb::Invitation>, Status> {
        let actor = self.0.actor(&req)?;
        let id = invitation_id(req.get_ref().id)?;
        let inv = self.0.write(move |p| p.revoke_invitation(&actor, id)).await?;
        Ok(Response::new(invitation_to_proto(&inv, &self.group_name(inv.group), self.0.portal.now())))
    }

    /// No API token: the invitation token is the credential.
    async fn accept(&self, req: Request<pb::AcceptRequest>) -> Result<Response<pb::AcceptResponse>, Status> {
        let r = req.into_inner();
        if r.token.trim().is_empty() {
            return Err(crate::grpc::error::NodeError::invalid(portalnet_core::error::text!(
                "error-invite-token-required"
            ))
            .into_status());
        }
        let accepted =
            self.0.write(move |p| p.accept_invitation(&r.token, &r.display_name, &r.login)).await?;
        Ok(Response::new(pb::AcceptResponse {
            user: Some(accepted.user.to_proto()),
            api_token: accepted.api_token,
            group_ids: accepted.groups,
            portal_id: self.0.portal.settings.portal_id.clone(),
        }))
    }
}

fn invitation_id(id: u64) -> Result<u64, Status> {
    if id == 0 {
        Err(crate::grpc::error::NodeError::invalid(portalnet_core::error::text!(
            "error-id-required",
            field = "invitation id"
        ))
        .into_status())
    } else {
        Ok(id)
    }
}
