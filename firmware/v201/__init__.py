"""OCPP 2.0.1 adapters: the device model (dmtable, devicemodel) and the services that speak
for it (variables: GetVariables/SetVariables; reports: GetBaseReport/GetReport).

    dm = DeviceModel(state_dir + "/ocpp201-variables.json", evses=2, actual={...}, fixed={...})
    Variables(session, dm).register(session)
    Reports(session, dm, max_frame_bytes=4096).register(session)
"""
