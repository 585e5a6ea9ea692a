"""The dispatcher: queued submissions -> attempts -> an executor that runs
``podium execute SUBMISSION_ID`` (one process per attempt), within each target's slots;
heartbeats, lost workers queued again, cancel, re-attach after a restart."""
