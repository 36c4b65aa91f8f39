"""OCPP 1.6J: the charge point's services and their handlers, the configuration keys, the
registration (BootNotification) and the transactions as 1.6 shapes them."""
