"""The Proctor runner: runs one attempt of a test run (Gherkin + Playwright Chromium).

``runner.main.main`` is the process (API, signals, store); ``runner.execute.run_job`` is
the HTTP-free core; ``runner.steps`` is what step modules import.
"""
