package cloudtrail

import (
	"lextrail/internal/awserr"
)

// The Trails API's errors (spec §5). All are HTTP 400.

func errTrailNotFound(nameOrARN, account string) *awserr.Error {
	return clientError("TrailNotFoundException", "Unknown trail: %s for the user: %s", nameOrARN, account)
}

func errTrailExists(name, account string) *awserr.Error {
	return clientError("TrailAlreadyExistsException", "Trail %s already exists for customer: %s", name, account)
}

func errInvalidName(msg string) *awserr.Error {
	return clientError("InvalidTrailNameException", "%s", msg)
}

func errARNInvalid(arn string) *awserr.Error {
	return clientError("CloudTrailARNInvalidException", "ARN %s is invalid.", arn)
}

func errHomeRegion(home string) *awserr.Error {
	return clientError("InvalidHomeRegionException", "This operation must be called from the trail's home region, %s.", home)
}

func errBucketMissing(bucket string) *awserr.Error {
	return clientError("S3BucketDoesNotExistException", "S3 bucket %s does not exist.", bucket)
}

func errBucketPolicy(bucket string) *awserr.Error {
	return clientError("InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket: %s", bucket)
}

func errTopicPolicy() *awserr.Error {
	return clientError("InsufficientSnsTopicPolicyException", "SNS Topic does not exist or the topic policy is incorrect!")
}

func errParamCombination(msg string) *awserr.Error {
	return clientError("InvalidParameterCombinationException", "%s", msg)
}

func errSelectors(msg string) *awserr.Error {
	return clientError("InvalidEventSelectorsException", "%s", msg)
}

func errTagParam(format string, args ...any) *awserr.Error {
	return clientError("InvalidTagParameterException", format, args...)
}
