"""Resource Groups Tagging API: list what moto leaves out of GetResources.

moto 5.2.5's GetResources walks only the backends that implement its tagging mixin, so tagged
API Gateway REST APIs, Cloud Map namespaces and services, and EventBridge rules are missing from
it (EventBridge lists its buses but not their rules), while real AWS lists them all. The portal's
AWS discovery reads GetResources alone, so the demo estate's front door, service registry and
event rules would never reach the catalog.

This extension wraps the tagging backend's resource generator and, after moto's own resources,
yields those of the same account and region with the same filters applied (tag filters, resource
types, ARN list). Only tagged resources are listed, as moto does for the others. It reads moto's
own backends and stores nothing, so moto's reset needs nothing from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from moto.core.resource_tagging import TaggedResource, make_tag_matcher, match_resource_type
from moto.resourcegroupstaggingapi.models import ResourceGroupsTaggingAPIBackend
from moto.utilities.utils import get_partition


def _regional(backend_dict, account_id: str, region: str):
    """The account's backend in `region`, or None when that account never used the service there."""
    if account_id not in backend_dict:
        return None
    by_region = backend_dict[account_id]
    if region in by_region or region in by_region.regions:
        return by_region[region]
    return None


def _rest_apis(account_id: str, region: str) -> Iterator[TaggedResource]:
    from moto.apigateway.models import apigateway_backends

    backend = _regional(apigateway_backends, account_id, region)
    for api in backend.apis.values() if backend else ():
        yield TaggedResource(
            arn=f"arn:{get_partition(region)}:apigateway:{region}::/restapis/{api.id}",
            tags=dict(api.tags or {}),
            resource_type="apigateway:restapis",
        )


def _cloud_map(account_id: str, region: str) -> Iterator[TaggedResource]:
    from moto.servicediscovery.models import servicediscovery_backends

    backend = _regional(servicediscovery_backends, account_id, region)
    if backend is None:
        return
    for namespace in backend.namespaces.values():
        tags = backend.tagger.get_tag_dict_for_resource(namespace.arn)
        yield TaggedResource(arn=namespace.arn, tags=tags, resource_type="servicediscovery:namespace")
    for service in backend.services.values():
        tags = backend.tagger.get_tag_dict_for_resource(service.arn)
        yield TaggedResource(arn=service.arn, tags=tags, resource_type="servicediscovery:service")


def _event_rules(account_id: str, region: str) -> Iterator[TaggedResource]:
    from moto.events.models import events_backends

    backend = _regional(events_backends, account_id, region)
    for bus in backend.event_buses.values() if backend else ():
        for rule in bus.rules.values():
            tags = backend.tagger.get_tag_dict_for_resource(rule.arn)
            yield TaggedResource(arn=rule.arn, tags=tags, resource_type="events:rule")


SOURCES = (_rest_apis, _cloud_map, _event_rules)


def install() -> None:
    moto_generator = ResourceGroupsTaggingAPIBackend._get_resources_generator

    def _get_resources_generator(
        self: ResourceGroupsTaggingAPIBackend,
        tag_filters: list[dict[str, Any]] | None = None,
        resource_type_filters: list[str] | None = None,
        resource_arn_list: list[str] | None = None,
    ) -> Iterator[TaggedResource]:
        yield from moto_generator(
            self,
            tag_filters=tag_filters,
            resource_type_filters=resource_type_filters,
            resource_arn_list=resource_arn_list,
        )
        tag_matcher = make_tag_matcher(tag_filters)
        for source in SOURCES:
            for resource in source(self.account_id, self.region_name):
                if not resource.tags or not tag_matcher(resource.tags):
                    continue
                if not match_resource_type(resource.resource_type, resource_type_filters):
                    continue
                if resource_arn_list and resource.arn not in resource_arn_list:
                    continue
                yield resource

    ResourceGroupsTaggingAPIBackend._get_resources_generator = _get_resources_generator
