"""Notification gateways behind one protocol (``base.Gateway``): console, generic HTTP/JSON,
DingTalk, WeCom and Feishu group robots, Aliyun and Tencent Cloud SMS. ``build(name, conf, env)``
makes one from its ``[alerting.gateways.NAME]`` table; a missing credential is a ConfigError naming it."""
from __future__ import annotations

import os
from typing import Mapping

from alerting.gateways import aliyun, console, http, robots, tencent
from alerting.gateways.base import DeliveryResult, Gateway, Message
from core.errors import ConfigError

__all__ = ["DeliveryResult", "Gateway", "Message", "build", "build_all"]


def build(name: str, conf: dict, env: Mapping[str, str] | None = None) -> Gateway:
    env = os.environ if env is None else env
    makers = {"console": console.ConsoleGateway, "http": http.HttpGateway, "dingtalk": robots.DingTalkGateway,
              "wecom": robots.WeComGateway, "feishu": robots.FeishuGateway, "aliyun": aliyun.AliyunGateway,
              "tencent": tencent.TencentGateway}
    kind = conf.get("type")
    if kind not in makers:
        raise ConfigError(f"gateway {name!r}: type {kind!r} is not available in this build; use one of "
                          f"{', '.join(sorted(makers))}.")
    return makers[kind](name, conf, env)


def build_all(gateways: dict, env: Mapping[str, str] | None = None) -> dict[str, Gateway]:
    """Every configured gateway, built up front: a missing credential stops the start, not a page."""
    return {name: build(name, conf, env) for name, conf in gateways.items()}
