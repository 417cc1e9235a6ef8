"""OUT's run state: its lock (:mod:`.lock`), the scan's plan and configs (:mod:`.state`), and the
one step that builds the published dataset and span parts (:mod:`.materialize`)."""
