"""``/api/test-runs/{id}/artifacts``, ``/report.json``, ``/junit.xml``, ``/report.pdf``."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath
from litestar.response import File, Redirect

from api.context import EngineDep, SettingsDep, StoreDep
from api.problems import problem_responses
from api.services import artifacts
from schemas.models import ArtifactRead


class ArtifactsController(Controller):
    path = "/api/test-runs/{run_id:str}"
    tags = ["artifacts"]

    @get(
        "/artifacts",
        opt={"scope": "read"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404),
    )
    def list_artifacts(
        self, engine: EngineDep, store: StoreDep, run_id: FromPath[str]
    ) -> list[ArtifactRead]:
        """Every artifact of every attempt; ``url`` downloads it (pre-signed on S3)."""
        return artifacts.list_artifacts(engine, store, run_id)

    @get(
        "/artifacts/{key:path}",
        opt={"scope": "read"},
        sync_to_thread=True,
        responses={
            302: ResponseSpec(None, description="Redirect to a pre-signed S3 URL"),
            **problem_responses(400, 401, 403, 404, 422, 503),
        },
    )
    def download(
        self, engine: EngineDep, store: StoreDep, run_id: FromPath[str], key: FromPath[str]
    ) -> File | Redirect:
        """One artifact by its key (``runs/{id}/attempt-{n}/…``)."""
        found = artifacts.resolve_download(engine, store, run_id, key.lstrip("/"))
        if found.url is not None:
            return Redirect(found.url, status_code=302)
        assert found.path is not None
        return File(found.path, media_type=found.content_type, content_disposition_type="inline")

    @get(
        "/report.json",
        opt={"scope": "read"},
        sync_to_thread=True,
        media_type="application/json",
        responses=problem_responses(400, 401, 403, 404),
    )
    def cucumber_json(
        self, engine: EngineDep, store: StoreDep, run_id: FromPath[str]
    ) -> Response[bytes]:
        """The latest attempt's cucumber.json."""
        return Response(
            artifacts.cucumber_json(engine, store, run_id), media_type="application/json"
        )

    @get(
        "/junit.xml",
        opt={"scope": "read"},
        sync_to_thread=True,
        media_type="application/xml",
        responses=problem_responses(400, 401, 403, 404),
    )
    def junit_xml(
        self, engine: EngineDep, store: StoreDep, run_id: FromPath[str]
    ) -> Response[bytes]:
        """The latest attempt's JUnit XML."""
        return Response(artifacts.junit_xml(engine, store, run_id), media_type="application/xml")

    @get(
        "/report.pdf",
        opt={"scope": "read"},
        sync_to_thread=True,
        media_type="application/pdf",
        responses=problem_responses(400, 401, 403, 404, 503),
    )
    def report_pdf(
        self, engine: EngineDep, store: StoreDep, settings: SettingsDep, run_id: FromPath[str]
    ) -> Response[bytes]:
        """A PDF report of the latest attempt, rendered on demand."""
        return Response(
            artifacts.report_pdf(engine, store, settings, run_id),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="proctor-{run_id}.pdf"'},
        )
