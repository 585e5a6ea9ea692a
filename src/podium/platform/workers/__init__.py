"""What a running attempt (``podium execute``) reports to the server: routes under
``/api/attempts/{attempt_id}/...``, authenticated only by that attempt's credential."""
