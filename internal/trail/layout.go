package trail

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
)

// Object key layout (spec §2.1, §2.2, §3.1).

// joinPrefix puts the trail's S3 key prefix in front of key with one '/'.
func joinPrefix(prefix, key string) string {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return key
	}
	return prefix + "/" + key
}

// LogKey is a log file's key:
// [prefix/]AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<unique>.json.gz
// where the date folders and the timestamp are the delivery time (UTC,
// to the minute).
func LogKey(prefix, account, region string, delivered time.Time, unique string) string {
	t := delivered.UTC()
	return joinPrefix(prefix, "AWSLogs/"+account+"/CloudTrail/"+region+"/"+t.Format("2006/01/02")+"/"+
		account+"_CloudTrail_"+region+"_"+t.Format("20060102T1504Z")+"_"+unique+".json.gz")
}

// LogFolder is the folder LogKey puts a region's files in, without the
// date: [prefix/]AWSLogs/<acct>/CloudTrail/<region>/.
func LogFolder(prefix, account, region string) string {
	return joinPrefix(prefix, "AWSLogs/"+account+"/CloudTrail/"+region+"/")
}

// DigestKey is a digest file's key:
// [prefix/]AWSLogs/<acct>/CloudTrail-Digest/<source>/YYYY/MM/DD/<acct>_CloudTrail-Digest_<source>_<trail>_<home>_YYYYMMDDTHHMMSSZ.json.gz
// where the date folders and the timestamp are digestEndTime (to the
// second).
func DigestKey(prefix, account, sourceRegion, trailName, homeRegion string, end time.Time) string {
	t := end.UTC()
	return joinPrefix(prefix, "AWSLogs/"+account+"/CloudTrail-Digest/"+sourceRegion+"/"+t.Format("2006/01/02")+"/"+
		account+"_CloudTrail-Digest_"+sourceRegion+"_"+trailName+"_"+homeRegion+"_"+t.Format("20060102T150405Z")+".json.gz")
}

// DigestFolder is the listing prefix of a source region's digests:
// [prefix/]AWSLogs/<acct>/CloudTrail-Digest/<source>/.
func DigestFolder(prefix, account, sourceRegion string) string {
	return joinPrefix(prefix, "AWSLogs/"+account+"/CloudTrail-Digest/"+sourceRegion+"/")
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Unique is the 16-character [A-Za-z0-9] part of a log file name. It is
// derived from the trail, the recipient account and region, the batch
// and the part number, so that delivering a batch again (after a failure
// or a crash) rewrites the same objects instead of adding copies.
func Unique(trailID, account, region string, batch, part int64) string {
	h := sha256.Sum256([]byte(trailID + "\x00" + account + "\x00" + region + "\x00" +
		strconv.FormatInt(batch, 10) + "\x00" + strconv.FormatInt(part, 10)))
	var b [16]byte
	for i := range b {
		v := binary.BigEndian.Uint16(h[2*i:])
		b[i] = base62[int(v)%len(base62)]
	}
	return string(b[:])
}
