"""``fnact watch``: a run's activities and their outcomes, until the run closes.

Each look describes the run (pending activities, with their heartbeats) while a
reader follows the run's history (every activity scheduled, and how it ended).
Together they give each activity's outcome, attempt and elapsed time, labelled by
the ``summary`` given to ``execute_activity`` when there is one, in the order the
workflow scheduled them. fnact treats heartbeat progress as a percentage (0 to
100); details that are not fnact's ``{"progress", "message", "checkpoint"}`` are
not shown.

The command (`command`) shows, through a view (`views`), what a poller (`poller`)
reads of the run as rows of its model (`model`).
"""
