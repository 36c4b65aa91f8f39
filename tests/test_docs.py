# The README and `make help` say what the code does: one statement of each fact, checked.
import os
import re
import subprocess

from firmware.v16.chargepoint import FEATURE_PROFILES
from simproc import ROOT


def readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        return f.read()


def test_the_readme_gives_supported_feature_profiles_once_and_right():
    said = re.findall(r"SupportedFeatureProfiles says `([^`]*)`", readme())
    assert said == [FEATURE_PROFILES], said


def test_make_help_lists_every_target():
    with open(os.path.join(ROOT, "Makefile")) as f:
        makefile = f.read()
    phony = re.search(r"^\.PHONY:(.*?)(?<!\\)\n", makefile, re.M | re.S).group(1)
    targets = phony.replace("\\\n", " ").split()
    shown = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True,
                           text=True).stdout
    missing = [t for t in targets if t != "help" and not re.search(r"\b%s\b" % re.escape(t), shown)]
    assert not missing, missing
