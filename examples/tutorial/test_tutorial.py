"""The tutorial's activity tests: in-process, no Temporal server."""

# --8<-- [start:first_test]
from examples.tutorial.activities import welcome_user
from examples.tutorial.directory import Person
from examples.tutorial.models import UserNotFound, Welcome, WelcomeArgs, WelcomeUser
from fnact.testing import ActivityHarness, StateCounts, assert_failure, assert_success


async def test_welcomes_a_user_by_name(activity_harness: ActivityHarness) -> None:
    """welcome_user greets a user of the directory with the greeting it is given."""
    activity_harness.workflow_args = WelcomeArgs(team="platform", user_ids=["ada"])
    activity_harness.override(greeting="Hi {name}!")
    run = await activity_harness.run(welcome_user, WelcomeUser(user_id="ada"))
    assert assert_success(run.unwrap()).message == "Hi Ada Lovelace!"


# --8<-- [end:first_test]


# --8<-- [start:more_tests]
PLATFORM = WelcomeArgs(team="platform", user_ids=["ada", "zed"])


async def test_an_unknown_user_is_a_failure(activity_harness: ActivityHarness) -> None:
    """A user the directory lacks comes back as Failure(UserNotFound); the Directory stays."""
    activity_harness.workflow_args = PLATFORM
    run = await activity_harness.run(welcome_user, WelcomeUser(user_id="zed"))
    assert_failure(run.unwrap(), UserNotFound, UserNotFound(user_id="zed"))
    assert run.state == StateCounts(builds=1)  # an expected failure keeps the Directory


async def test_reads_the_directory_it_is_given(activity_harness: ActivityHarness) -> None:
    """With the people provider overridden, the run's Directory holds the test's people."""
    activity_harness.workflow_args = PLATFORM
    activity_harness.override(people={"zed": Person("Zed Shaw", "zed@example.org")})
    run = await activity_harness.run(welcome_user, WelcomeUser(user_id="zed"))
    expected = Welcome("zed", "zed@example.org", "Welcome to the platform team, Zed Shaw!")
    assert_success(run.unwrap(), expected)
    assert run.state == StateCounts(builds=1)  # one Directory for the run
    assert run.log_fields[0]["user_id"] == "zed"


# --8<-- [end:more_tests]
