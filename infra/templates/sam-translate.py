"""Translates SAM templates into plain CloudFormation, as CloudFormation's AWS::Serverless-2016-10-31 transform would,
with the AWS SAM translator that ships with cfn-lint.

One template: the region, then NAME=VALUE parameter values as arguments; the template as JSON on stdin, the translation
as JSON on stdout. `--serve`: one request per stdin line, {"template", "region", "parameters"}, and one answer per
stdout line, {"template"} or {"error"}, so that a process translating many templates imports the translator once.

Managed policy names resolve from cfn-lint's copy of the AWS managed policy list, so nothing is looked up in an
account."""
import importlib.util
import json
import logging
import os
import sys
import traceback

from samtranslator.parser import parser
from samtranslator.translator import arn_generator
from samtranslator.translator.translator import Translator

logging.getLogger("samtranslator").setLevel(logging.CRITICAL)

# Read cfn-lint's data file without importing cfn-lint (its import costs a second per translation).
cfnlint_dir = importlib.util.find_spec("cfnlint").submodule_search_locations[0]
with open(os.path.join(cfnlint_dir, "data", "Serverless", "ManagedPolicies.json"), encoding="utf-8") as policies:
    managed_policy_map = json.load(policies)


def translate(template, region, parameters):
    if os.environ.get("AWS_DEFAULT_REGION") != region:
        os.environ["AWS_DEFAULT_REGION"] = region
        # The translator caches the session's region (and its partition) for the life of the process.
        arn_generator._get_region_from_session.cache_clear()
    translator = Translator(managed_policy_map=managed_policy_map, sam_parser=parser.Parser())
    return translator.translate(sam_template=template, parameter_values=parameters)


if len(sys.argv) > 1 and sys.argv[1] == "--serve":
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"template": translate(request["template"], request["region"], request.get("parameters") or {})}
        except Exception:  # one bad template must not end the server: its error is the answer
            answer = {"error": traceback.format_exc().strip().split("\n")[-1]}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
else:
    region = sys.argv[1]
    parameters = dict(arg.split("=", 1) for arg in sys.argv[2:])
    json.dump(translate(json.load(sys.stdin), region, parameters), sys.stdout)
