"""What the tests share, in one place (fixtures themselves are in tests/conftest.py).

- data: the people who act on cases and what they fill in at each step
- process: the reference process on the engine alone; `Driver` walks it step by step
- broken: a diagram with three problems of different kinds (`broken_bpmn`)
- cases: cases through the services; `drive` walks a case to wherever a test needs it
- web: the test client as a browser: forms, `file_complaint`, `AuthActions` (the `auth` fixture)
- mail: a real SMTP server on loopback (`mail_server`), the outbox, a process that sends e-mails
- browser: a live server and Chromium (`live_server`, `live_app`, `browser`)
- pdf: the text a PDF shows
- pg: a throwaway PostgreSQL server for the run
- wait: `wait_for`, polling for an event with a bound instead of sleeping

mail, browser and pdf are pytest plugins for their fixtures.
"""
