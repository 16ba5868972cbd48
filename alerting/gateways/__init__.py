"""Notification gateways behind one protocol (``base.Gateway``): console, generic HTTP/JSON,
DingTalk, WeCom and Feishu group robots. ``build(name, conf, env)`` makes one from its
``[alerting.gateways.NAME]`` table; a missing credential is a ConfigError naming it."""
from alerting.gateways.base import DeliveryResult, Gateway, Message, build, build_all

__all__ = ["DeliveryResult", "Gateway", "Message", "build", "build_all"]
