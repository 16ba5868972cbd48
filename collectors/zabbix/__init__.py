"""The Zabbix collector: API client, key map, inventory discovery, history, trends, problems."""
