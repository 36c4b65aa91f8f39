"""Firmware management: the update job kept on flash (fwjob), the download (fwtransfer), the
installer with its signature check (fwupdate), its status notifications (fwstatus) and the
diagnostics/log upload (diagnostics)."""
