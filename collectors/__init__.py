"""Sources that feed the store: the Zabbix collector and the synthetic fleet."""
