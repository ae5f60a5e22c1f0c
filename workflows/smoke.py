"""Smoke workflow: one activity round trip, tagged so `temporal workflow list` finds it."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.smoke import PingInput, PingResult, ping
    from workflows import search_attributes as sa


@workflow.defn(name="SmokeWorkflow")
class SmokeWorkflow:
    @workflow.run
    async def run(self, inp: PingInput) -> PingResult:
        workflow.upsert_search_attributes([sa.KIND.value_set("smoke"), sa.STATUS.value_set("running")])
        result = await workflow.execute_activity(ping, inp, start_to_close_timeout=timedelta(seconds=30))
        workflow.upsert_search_attributes([sa.STATUS.value_set("done")])
        return result
