"""One error tree for Peakwatch.

    PeakwatchError
     +-- ConfigError            bad setting, unknown key, bad CLI value
     +-- StoreError
     |    +-- StoreUnavailable  database URL does not answer
     |    +-- StoreCorrupt      file is not a database / schema damaged
     |    +-- StoreLocked       another process holds the write lock
     |    +-- StoreInputError   caller passed bad samples / inventory
     |    +-- StoreFull         the disk holding the store is full
     +-- CollectorError
     |    +-- ZabbixError
     |         +-- ZabbixUnavailable  connection refused, timeout, 5xx
     |         +-- ZabbixAuthError    bad token/password, session expired twice
     |         +-- ZabbixProtocolError  not JSON-RPC, unexpected shape
     |         +-- ZabbixTooLarge     the frontend ran out of PHP memory
     |         +-- ZabbixAPIError     the API answered with an error object
     +-- ForecastError          not enough data, bad series or events
     +-- AlertingError
          +-- GatewayError      the SMS gateway refused or did not answer

Every message names the problem and the fix; the CLI prints it on one line.
"""
from __future__ import annotations


class PeakwatchError(Exception):
    """Root of every error Peakwatch raises on purpose."""

    #: process exit code used by the CLI
    exit_code = 1


class ConfigError(PeakwatchError):
    exit_code = 2


class StoreError(PeakwatchError):
    pass


class StoreUnavailable(StoreError):
    pass


class StoreCorrupt(StoreError):
    pass


class StoreLocked(StoreError):
    pass


class StoreInputError(StoreError):
    pass


class StoreFull(StoreError):
    pass


class CollectorError(PeakwatchError):
    pass


class ZabbixError(CollectorError):
    pass


class ZabbixUnavailable(ZabbixError):
    pass


class ZabbixAuthError(ZabbixError):
    pass


class ZabbixProtocolError(ZabbixError):
    pass


class ZabbixTooLarge(ZabbixError):
    pass


class ZabbixAPIError(ZabbixError):
    pass


class ForecastError(PeakwatchError):
    pass


class AlertingError(PeakwatchError):
    pass


class GatewayError(AlertingError):
    pass
