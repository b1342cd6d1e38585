//! The gRPC `UserService`: users, tokens and the caller's own identity.

use super::State;
use crate::grpc::convert::{Checked, ToProto};
use crate::grpc::error::to_status;
use portalnet_portal::paging::PageReq;
use portalnet_proto::v1::{self as pb, user_service_server::UserService};
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct UserSvc(pub Arc<State>);

#[tonic::async_trait]
impl UserService for UserSvc {
    async fn add_user(&self, req: Request<pb::AddUserRequest>) -> Result<Response<pb::User>, Status> {
        let actor = self.0.actor(&req)?;
        let Checked(new) = req.into_inner().try_into().map_err(to_status)?;
        let user = self.0.write(move |p| p.add_user(&actor, new)).await?;
        Ok(Response::new(user.to_proto()))
    }

    async fn list_users(
        &self,
        req: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.get_ref();
        let list = format!("users|dismissed={}", r.include_dismissed);
        let page = PageReq::parse(r.page_size, &r.page_token, &list).map_err(to_status)?;
        let page = self.0.portal.list_users(&actor, r.include_dismissed, &page).map_err(to_status)?;
        Ok(Response::new(pb::ListUsersResponse {
            users: page.items.iter().map(ToProto::to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn get_user(&self, req: Request<pb::GetUserRequest>) -> Result<Response<pb::User>, Status> {
        let actor = self.0.actor(&req)?;
        Ok(Response::new(self.0.portal.get_user(&actor, &req.get_ref().login).map_err(to_status)?.to_proto()))
    }

    async fn dismiss_user(&self, req: Request<pb::DismissUserRequest>) -> Result<Response<pb::User>, Status> {
        let actor = self.0.actor(&req)?;
        let login = req.into_inner().login;
        let user = self.0.write(move |p| p.dismiss_user(&actor, &login)).await?;
        Ok(Response::new(user.to_proto()))
    }

    async fn update_user(&self, req: Request<pb::UpdateUserRequest>) -> Result<Response<pb::User>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let user = self
            .0
            .write(move |p| {
                let patch = portalnet_portal::UserPatch {
                    display_name: r.display_name.as_deref(),
                    position: r.position.as_deref(),
                    language: r.language.as_deref(),
                };
                p.update_user(&actor, &r.login, patch)
            })
            .await?;
        Ok(Response::new(user.to_proto()))
    }

    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> Result<Response<pb::User>, Status> {
        let actor = self.0.actor(&req)?;
        Ok(Response::new(self.0.portal.get_user(&actor, &actor.login).map_err(to_status)?.to_proto()))
    }

    async fn issue_token(
        &self,
        req: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let login = req.into_inner().login;
        let l = login.clone();
        let token = self.0.write(move |p| p.issue_token(&actor, &l)).await?;
        Ok(Response::new(pb::IssueTokenResponse { login, token }))
    }

    async fn move_to_intranet(
        &self,
        req: Request<pb::MoveUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let actor = self.0.actor(&req)?;
        let login = req.into_inner().login;
        let user = self.0.write(move |p| p.move_to_intranet(&actor, &login)).await?;
        Ok(Response::new(user.to_proto()))
    }

    async fn move_to_extranet(
        &self,
        req: Request<pb::MoveUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let actor = self.0.actor(&req)?;
        Ok(Response::new(
            self.0.portal.move_to_extranet(&actor, &req.get_ref().login).map_err(to_status)?.to_proto(),
        ))
    }

    async fn set_email(&self, req: Request<pb::SetEmailRequest>) -> Result<Response<pb::User>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let user = self.0.write(move |p| p.set_email(&actor, &r.login, &r.email)).await?;
        Ok(Response::new(user.to_proto()))
    }
}
