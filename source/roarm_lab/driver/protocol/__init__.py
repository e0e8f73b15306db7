"""FW-250108's JSON protocol, no I/O: typed commands (:mod:`.commands`), the `T:1051` reading (:mod:`.feedback`),
and the incremental reader of the arm's serial output (:mod:`.reader`: JSON lines, boot text, torn frames)."""
