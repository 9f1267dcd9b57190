"""Translates a SAM template (JSON on stdin) into plain CloudFormation (JSON on stdout), as CloudFormation's
AWS::Serverless-2016-10-31 transform would, with the AWS SAM translator that ships with cfn-lint.

Arguments: the region, then NAME=VALUE parameter values. Managed policy names resolve from cfn-lint's copy of the
AWS managed policy list, so nothing is looked up in an account."""
import importlib.util
import json
import logging
import os
import sys

from samtranslator.parser import parser
from samtranslator.translator.translator import Translator

logging.getLogger("samtranslator").setLevel(logging.CRITICAL)

region = sys.argv[1]
parameters = dict(arg.split("=", 1) for arg in sys.argv[2:])
os.environ["AWS_DEFAULT_REGION"] = region
template = json.load(sys.stdin)
# Read cfn-lint's data file without importing cfn-lint (its import costs a second per translation).
cfnlint_dir = importlib.util.find_spec("cfnlint").submodule_search_locations[0]
with open(os.path.join(cfnlint_dir, "data", "Serverless", "ManagedPolicies.json"), encoding="utf-8") as policies:
    managed_policy_map = json.load(policies)
translator = Translator(managed_policy_map=managed_policy_map, sam_parser=parser.Parser())
json.dump(translator.translate(sam_template=template, parameter_values=parameters), sys.stdout)
