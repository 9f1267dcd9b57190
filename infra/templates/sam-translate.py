"""Translates a SAM template (JSON on stdin) into plain CloudFormation (JSON on stdout), as CloudFormation's
AWS::Serverless-2016-10-31 transform would, with the AWS SAM translator that ships with cfn-lint.

Arguments: the region, then NAME=VALUE parameter values. Managed policy names resolve from cfn-lint's copy of the
AWS managed policy list, so nothing is looked up in an account."""
import json
import logging
import os
import sys

from samtranslator.parser import parser
from samtranslator.translator.translator import Translator
from cfnlint.data import Serverless
from cfnlint.helpers import load_resource

logging.getLogger("samtranslator").setLevel(logging.CRITICAL)

region = sys.argv[1]
parameters = dict(arg.split("=", 1) for arg in sys.argv[2:])
os.environ["AWS_DEFAULT_REGION"] = region
template = json.load(sys.stdin)
translator = Translator(managed_policy_map=load_resource(Serverless, "ManagedPolicies.json"), sam_parser=parser.Parser())
json.dump(translator.translate(sam_template=template, parameter_values=parameters), sys.stdout)
