"""OCPP 2.0.1 adapters: the device model and the services that speak for it.

    dmtable      the components and variables, as data (one row each)
    devicemodel  their values: get/read/set, listeners, the file of what was set
    dmcheck      the rules a value must pass; dmreport: ReportData generators (lazy)
    variables    GetVariables / SetVariables; reports: GetBaseReport / GetReport
    jsonsize     how long a payload's JSON is, before it is written

    dm = DeviceModel(state_dir + "/ocpp201-variables.json", evses=2, actual={...}, fixed={...})
    Variables(session, dm).register(session)
    Reports(session, dm, max_frame_bytes=4096).register(session)
"""
