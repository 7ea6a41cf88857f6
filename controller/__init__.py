"""The reconciliation controller: makes every run's actual state match its desired state.

Layout (decide purely, act in one place):

* ``plan`` — pure: observed runs and tasks in, actions out (the stop-code and failure
  tables live in its docstring);
* ``claims`` — every SQL statement, named, fenced, each commented on its locking;
* ``service`` — the loop: observe, plan, apply, claim; ``Controller.run_forever``;
* ``launcher`` — the port (``launch``/``describe``/``stop``) and its error hierarchy;
  ``local`` (child processes) and ``ecs`` (Fargate; the only boto3 user) implement it;
* ``wakeup`` — PostgreSQL LISTEN in its own thread; ``report`` — reading cucumber.json;
* ``fakes`` (in-memory launcher) and ``fake_ecs`` (ECS over loopback) for tests and bench.
"""
