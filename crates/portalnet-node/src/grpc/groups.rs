//! The gRPC `GroupService`: a thin adapter over the portal's group operations.

use super::State;
use crate::grpc::convert::{ToProto, group_id, invite_policy, invite_response, role};
use crate::grpc::error::to_status;
use portalnet_core::group::{GroupPatch, NewGroup};
use portalnet_portal::paging::PageReq;
use portalnet_proto::v1::{self as pb, group_service_server::GroupService};
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct GroupSvc(pub Arc<State>);

#[tonic::async_trait]
impl GroupService for GroupSvc {
    async fn create_group(
        &self,
        req: Request<pb::CreateGroupRequest>,
    ) -> Result<Response<pb::CreateGroupResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let mut new = NewGroup::new(&r.name, &r.description, self.0.portal.limits())
            .map_err(crate::NodeError::from)
            .map_err(to_status)?;
        new.settings.extranet = r.extranet;
        new.settings.invite_policy = invite_policy(r.invite_policy).map_err(to_status)?.unwrap_or_default();
        let emails = r.invite_emails;
        let (group, invited) = self.0.write(move |p| p.create_group(&actor, new, &emails)).await?;
        let now = self.0.portal.now();
        Ok(Response::new(pb::CreateGroupResponse {
            group: Some(group.to_proto()),
            invitations: invited.iter().map(|i| invite_response(i, &group.name, now)).collect(),
        }))
    }

    async fn update_group(
        &self,
        req: Request<pb::UpdateGroupRequest>,
    ) -> Result<Response<pb::Group>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let id = group_id(r.id).map_err(to_status)?;
        let patch = GroupPatch {
            name: r.name,
            description: r.description,
            extranet: r.extranet,
            invite_policy: invite_policy(r.invite_policy).map_err(to_status)?,
        };
        let group = self.0.write(move |p| p.update_group(&actor, id, patch)).await?;
        Ok(Response::new(group.to_proto()))
    }

    async fn get_group(&self, req: Request<pb::GetGroupRequest>) -> Result<Response<pb::Group>, Status> {
        let actor = self.0.actor(&req)?;
        let id = group_id(req.get_ref().id).map_err(to_status)?;
        Ok(Response::new(self.0.portal.get_group(&actor, id).map_err(to_status)?.to_proto()))
    }

    async fn list_groups(
        &self,
        req: Request<pb::ListGroupsRequest>,
    ) -> Result<Response<pb::ListGroupsResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let page = PageReq::parse(req.get_ref().page_size, &req.get_ref().page_token, "groups")
            .map_err(to_status)?;
        let page = self.0.portal.list_groups(&actor, &page).map_err(to_status)?;
        Ok(Response::new(pb::ListGroupsResponse {
            groups: page.items.iter().map(ToProto::to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn add_member(&self, req: Request<pb::AddMemberRequest>) -> Result<Response<pb::Group>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let (id, role) = (group_id(r.group_id).map_err(to_status)?, role(r.role).map_err(to_status)?);
        let login = r.login;
        let group = self.0.write(move |p| p.add_member(&actor, id, &login, role)).await?;
        Ok(Response::new(group.to_proto()))
    }
}
