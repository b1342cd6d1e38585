use super::State;
use crate::app::TaskFilter;
use crate::convert::{Checked, ToProto, optional_status, status, task_id, task_to_proto};
use portalnet_core::validate;
use portalnet_proto::v1::{self as pb, task_service_server::TaskService};
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct TaskSvc(pub Arc<State>);

impl TaskSvc {
    fn reply(&self, t: &portalnet_core::task::Task) -> Response<pb::Task> {
        Response::new(task_to_proto(t, self.0.portal.now()))
    }
}

#[tonic::async_trait]
impl TaskService for TaskSvc {
    async fn create_task(&self, req: Request<pb::CreateTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let Checked(new) = req.into_inner().try_into()?;
        let task = self.0.portal.create_task(&actor, new)?;
        self.0.durable().await?;
        Ok(self.reply(&task))
    }

    async fn get_task(&self, req: Request<pb::GetTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let task = self.0.portal.get_task(&actor, task_id(req.get_ref().id)?)?;
        Ok(self.reply(&task))
    }

    async fn list_tasks(
        &self,
        req: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let filter = TaskFilter {
            status: optional_status(r.status)?,
            responsible: if r.responsible.trim().is_empty() {
                None
            } else {
                Some(validate::login("responsible", &r.responsible).map_err(crate::NodeError::from)?)
            },
            group: (r.group_id != 0).then_some(r.group_id),
        };
        let tasks = self.0.portal.list_tasks(&actor, &filter)?;
        let now = self.0.portal.now();
        Ok(Response::new(pb::ListTasksResponse {
            tasks: tasks.iter().map(|t| task_to_proto(t, now)).collect(),
        }))
    }

    async fn update_task(&self, req: Request<pb::UpdateTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let Checked((id, patch)) = req.into_inner().try_into()?;
        let task = self.0.portal.update_task(&actor, id, patch)?;
        self.0.durable().await?;
        Ok(self.reply(&task))
    }

    async fn set_status(&self, req: Request<pb::SetStatusRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let (id, to) = (task_id(req.get_ref().id)?, status(req.get_ref().status)?);
        let task = self.0.portal.set_status(&actor, id, to)?;
        self.0.durable().await?;
        Ok(self.reply(&task))
    }

    async fn add_comment(
        &self,
        req: Request<pb::AddCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        let actor = self.0.actor(&req)?;
        let id = task_id(req.get_ref().task_id)?;
        let comment = self.0.portal.add_comment(&actor, id, &req.get_ref().text)?;
        self.0.durable().await?;
        Ok(Response::new(comment.to_proto()))
    }

    async fn list_comments(
        &self,
        req: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let comments = self.0.portal.list_comments(&actor, task_id(req.get_ref().task_id)?)?;
        Ok(Response::new(pb::ListCommentsResponse {
            comments: comments.iter().map(ToProto::to_proto).collect(),
        }))
    }

    async fn attach_file(
        &self,
        req: Request<pb::AttachFileRequest>,
    ) -> Result<Response<pb::FileInfo>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let id = task_id(r.task_id)?;
        let meta = self.0.portal.attach_file(&actor, id, &r.name, &r.content_type, r.content)?;
        self.0.durable().await?;
        Ok(Response::new(meta.to_proto()))
    }

    async fn get_file(
        &self,
        req: Request<pb::GetFileRequest>,
    ) -> Result<Response<pb::GetFileResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.get_ref();
        let id = task_id(r.task_id)?;
        if r.file_id == 0 {
            return Err(Status::invalid_argument("file id is required (a number from 1)"));
        }
        let (meta, content) = self.0.portal.get_file(&actor, id, r.file_id)?;
        Ok(Response::new(pb::GetFileResponse { info: Some(meta.to_proto()), content }))
    }

    async fn history(
        &self,
        req: Request<pb::HistoryRequest>,
    ) -> Result<Response<pb::HistoryResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let entries = self.0.portal.history(&actor, task_id(req.get_ref().task_id)?)?;
        Ok(Response::new(pb::HistoryResponse { entries: entries.iter().map(ToProto::to_proto).collect() }))
    }
}
