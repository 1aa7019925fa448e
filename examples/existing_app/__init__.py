"""An existing Temporal app that adopts fnact through ``fnact.worker.Plugin(container)``.

The app has its own pydantic models, ``temporalio.contrib.pydantic``'s converter, a
pydantic workflow and a plain ``@temporalio.activity.defn`` activity; fnact adds one
activity whose run state is built from the workflow's pydantic input. The how-to guide
"Add fnact to an existing Temporal app" shows these files, and
``tests/examples/test_existing_app.py`` runs them on a dev server.
"""
