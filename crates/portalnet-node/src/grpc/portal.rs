//! The gRPC `PortalService` and `ReportService`: portal info, plan, outbox, workers, reports.

use super::State;
use crate::grpc::convert::{ToProto, report_by};
use crate::grpc::error::IntoStatus;
use crate::grpc::error::to_status;
use portalnet_core::permissions::Actor;
use portalnet_core::user::UserKind;
use portalnet_proto::v1::{
    self as pb, portal_service_server::PortalService, report_service_server::ReportService,
};
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct PortalSvc(pub Arc<State>);

#[tonic::async_trait]
impl PortalService for PortalSvc {
    async fn info(&self, req: Request<pb::InfoRequest>) -> Result<Response<pb::PortalInfo>, Status> {
        let actor = self.0.actor(&req)?;
        Ok(Response::new(self.info_for(&actor)?))
    }

    async fn get_plan(&self, req: Request<pb::GetPlanRequest>) -> Result<Response<pb::Plan>, Status> {
        let actor = self.0.actor(&req)?;
        Ok(Response::new(self.plan(&actor).map_err(to_status)?))
    }

    async fn set_plan(&self, req: Request<pb::SetPlanRequest>) -> Result<Response<pb::Plan>, Status> {
        let actor = self.0.actor(&req)?;
        let (a, seats) = (actor.clone(), req.get_ref().seats);
        self.0.write(move |p| p.set_seats(&a, seats)).await?;
        Ok(Response::new(self.plan(&actor).map_err(to_status)?))
    }

    async fn outbox(&self, req: Request<pb::OutboxRequest>) -> Result<Response<pb::OutboxResponse>, Status> {
        self.admin(&req)?;
        let page = portalnet_portal::paging::PageReq::parse(
            req.get_ref().page_size,
            &req.get_ref().page_token,
            "outbox",
        )
        .map_err(to_status)?;
        let r = self.0.replicator()?;
        let mut rows = r.rows().map_err(to_status)?;
        rows.sort_by(|a, b| a.portal_id.cmp(&b.portal_id));
        let after = page.after.clone();
        let rows = rows
            .into_iter()
            .map(|row| (row.portal_id.as_bytes().to_vec(), row))
            .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
            .map(Ok);
        let page = page.collect(rows).map_err(to_status)?;
        Ok(Response::new(pb::OutboxResponse { rows: page.items, next_page_token: page.next_page_token }))
    }

    async fn retry_outbox(
        &self,
        req: Request<pb::RetryOutboxRequest>,
    ) -> Result<Response<pb::OutboxResponse>, Status> {
        self.admin(&req)?;
        let id = portalnet_core::validate::portal_id(&req.get_ref().portal_id)
            .map_err(crate::grpc::error::NodeError::Domain)
            .map_err(to_status)?;
        let r = self.0.replicator()?;
        r.peers.forget(&id);
        r.wake(&id, true);
        Ok(Response::new(pb::OutboxResponse {
            rows: r.rows().map_err(to_status)?,
            next_page_token: String::new(),
        }))
    }

    async fn workers(
        &self,
        req: Request<pb::WorkersRequest>,
    ) -> Result<Response<pb::WorkersResponse>, Status> {
        if !self.0.actor(&req)?.admin {
            return Err(crate::grpc::error::NodeError::denied(portalnet_core::error::text!(
                "error-admins-workers"
            ))
            .into_status());
        }
        let workers = self
            .0
            .portal
            .workers
            .list()
            .into_iter()
            .map(|(name, s)| pb::WorkerRow {
                name,
                state: s.state.name().to_string(),
                last_error: s.last_error,
                next_try_at: s.next_try.map_or(0, |t| t.0),
                failures: s.failures,
            })
            .collect();
        Ok(Response::new(pb::WorkersResponse { workers }))
    }
}

impl PortalSvc {
    fn admin<T>(&self, req: &Request<T>) -> Result<(), Status> {
        if self.0.actor(req)?.admin {
            Ok(())
        } else {
            Err(crate::grpc::error::NodeError::denied(portalnet_core::error::text!("error-admins-outbox"))
                .into_status())
        }
    }
}

impl PortalSvc {
    /// `PortalService/Info` as `actor` may see it. What describes the portal as a
    /// whole — how many users it has, the addresses it listens on (gRPC endpoints,
    /// LMTP, SMTP) — is for employees, like `GetPlan` and the network status; an
    /// extranet caller sees only what working in their groups needs (R12, least
    /// information): `user_count` 0 and those lists and addresses empty.
    fn info_for(&self, actor: &Actor) -> Result<pb::PortalInfo, Status> {
        let s = &self.0.portal.settings;
        let employee = actor.kind != UserKind::Extranet;
        let mut info = pb::PortalInfo {
            portal_id: s.portal_id.clone(),
            display_name: s.display_name.clone(),
            key_fingerprint: self.0.fingerprint.clone(),
            public_key: self.0.public_key.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            max_file_bytes: s.limits.max_file_bytes,
            web_url: self.0.portal.options.web_url.clone(),
            task_page_url: self.0.portal.task_page_base(),
            mail_domain: self.0.portal.mail_domain().to_string(),
            ..Default::default()
        };
        if employee {
            info.endpoints = self.0.endpoints.clone();
            info.user_count = self.user_count()?;
            info.lmtp_listen = self.0.lmtp_addr.map(|a| a.to_string()).unwrap_or_default();
            info.smtp_listen = self.0.smtp_addr.map(|a| a.to_string()).unwrap_or_default();
        }
        Ok(info)
    }

    /// All users, from the counter kept with every user write (a table's length
    /// would be a full scan).
    fn user_count(&self) -> Result<u32, Status> {
        let counts =
            self.0.portal.tables.idx.user_counts().map_err(crate::NodeError::from).map_err(to_status)?;
        Ok(u32::try_from(counts.all).unwrap_or(u32::MAX))
    }

    fn plan(&self, actor: &portalnet_core::permissions::Actor) -> Result<pb::Plan, crate::NodeError> {
        let (seats, c) = self.0.portal.plan(actor)?;
        let n = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
        Ok(pb::Plan {
            seats,
            used: n(c.active),
            employees: n(c.active.saturating_sub(c.active_extranet)),
            extranet: n(c.active_extranet),
        })
    }
}

pub struct ReportSvc(pub Arc<State>);

#[tonic::async_trait]
impl ReportService for ReportSvc {
    async fn task_report(
        &self,
        req: Request<pb::TaskReportRequest>,
    ) -> Result<Response<pb::TaskReportResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let by_raw = req.get_ref().by;
        let by = report_by(by_raw).map_err(to_status)?;
        let report = self.0.portal.task_report(&actor, by).map_err(to_status)?;
        Ok(Response::new(pb::TaskReportResponse {
            by: if by_raw == 0 { pb::ReportBy::Responsible as i32 } else { by_raw },
            rows: report.rows.iter().map(ToProto::to_proto).collect(),
            totals: Some(report.totals.to_proto()),
            with_email_participants: report.with_email_participants,
            with_extranet_participants: report.with_extranet_participants,
        }))
    }
}
