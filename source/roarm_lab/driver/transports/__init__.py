"""Transports: the :class:`ArmTransport` interface (:mod:`.base`), USB serial with a `T:105` request per reading
(:mod:`.serial_port`), USB serial fed by the InfoPrint=2 stream (:mod:`.serial_stream`, :mod:`.latest_frame`), HTTP
(:mod:`.http_api`), and :func:`open_transport` (:mod:`.factory`) to pick one."""
