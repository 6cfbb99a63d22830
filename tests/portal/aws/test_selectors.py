from portal.aws.models import AwsAccount
from portal.aws.selectors import enabled_account_regions


def test_syncs_fan_out_over_each_enabled_account_and_region_with_the_home_region_for_an_account_listing_none(db):
    prod = AwsAccount.objects.create(name="prod", account_id="111111111111", regions=["eu-west-1", "us-east-1"])
    home = AwsAccount.objects.create(name="home", account_id="222222222222", regions=[])
    AwsAccount.objects.create(name="disabled", account_id="333333333333", regions=["eu-west-1"], enabled=False)

    assert enabled_account_regions() == [(home, home.home_region), (prod, "eu-west-1"), (prod, "us-east-1")]
