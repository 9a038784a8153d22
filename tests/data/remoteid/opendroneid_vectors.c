/* Makes tests/data/remoteid/opendroneid_core_c_vectors.jsonl: random data encoded, then
   decoded again, by opendroneid-core-c (Apache-2.0, github.com/opendroneid/opendroneid-core-c,
   commit beb5639), printed as JSON lines: the hex and the library's own decoded values.
   Build against a checkout of that repository:
     gcc -I. -o gen opendroneid_vectors.c libopendroneid/opendroneid.c libopendroneid/wifi.c -lm
     ./gen 400 7   # (glibc rand) then keep the first 40 locations and 10 system messages, and the rest */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libopendroneid/opendroneid.h"

static double urand(double a, double b) { return a + (b - a) * (rand() / (double)RAND_MAX); }
static void hex(const void *p, int n) { const unsigned char *b = p; for (int i = 0; i < n; i++) printf("%02x", b[i]); }

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20;
    srand(argc > 2 ? atoi(argv[2]) : 1);
    for (int k = 0; k < n; k++) {
        ODID_Location_data in, out; ODID_Location_encoded enc;
        odid_initLocationData(&in);
        in.Status = rand() % 5;
        in.Direction = (rand() % 10 == 0) ? INV_DIR : (float)(rand() % 360);
        int s = rand() % 10;
        in.SpeedHorizontal = s == 0 ? INV_SPEED_H : s < 5 ? urand(0, 63) : urand(64, 254.25);
        in.SpeedVertical = (rand() % 10 == 0) ? INV_SPEED_V : urand(-62, 62);
        if (rand() % 10) { in.Latitude = urand(-90, 90); in.Longitude = urand(-180, 180); }
        in.AltitudeBaro = (rand() % 5 == 0) ? INV_ALT : urand(-900, 5000);
        in.AltitudeGeo = (rand() % 5 == 0) ? INV_ALT : urand(-900, 5000);
        in.HeightType = rand() % 2;
        in.Height = (rand() % 5 == 0) ? INV_ALT : urand(-100, 500);
        in.HorizAccuracy = rand() % 13; in.VertAccuracy = rand() % 7;
        in.BaroAccuracy = rand() % 7; in.SpeedAccuracy = rand() % 5; in.TSAccuracy = rand() % 16;
        in.TimeStamp = (rand() % 10 == 0) ? INV_TIMESTAMP : (float)((rand() % 36000) / 10.0);
        if (encodeLocationMessage(&enc, &in) != ODID_SUCCESS) { fprintf(stderr, "enc fail\n"); return 1; }
        if (decodeLocationMessage(&out, &enc) != ODID_SUCCESS) return 1;
        printf("{\"type\":\"location\",\"hex\":\""); hex(&enc, 25);
        printf("\",\"status\":%d,\"direction\":%.2f,\"speed\":%.4f,\"vspeed\":%.2f,\"lat\":%.7f,\"lon\":%.7f,"
               "\"alt_baro\":%.1f,\"alt_geo\":%.1f,\"height_type\":%d,\"height\":%.1f,\"hacc\":%d,\"vacc\":%d,"
               "\"baroacc\":%d,\"spdacc\":%d,\"tsacc\":%d,\"timestamp\":%.1f}\n",
               out.Status, out.Direction, out.SpeedHorizontal, out.SpeedVertical, out.Latitude, out.Longitude,
               out.AltitudeBaro, out.AltitudeGeo, out.HeightType, out.Height, out.HorizAccuracy, out.VertAccuracy,
               out.BaroAccuracy, out.SpeedAccuracy, out.TSAccuracy, out.TimeStamp);
    }
    for (int k = 0; k < n / 4 + 1; k++) {
        ODID_System_data in, out; ODID_System_encoded enc;
        odid_initSystemData(&in);
        in.OperatorLocationType = rand() % 3; in.ClassificationType = rand() % 2;
        if (rand() % 5) { in.OperatorLatitude = urand(-90, 90); in.OperatorLongitude = urand(-180, 180); }
        in.AreaCount = rand() % 100; in.AreaRadius = rand() % 2550;
        in.AreaCeiling = urand(-900, 3000); in.AreaFloor = urand(-900, 3000);
        in.CategoryEU = rand() % 4; in.ClassEU = rand() % 8;
        in.OperatorAltitudeGeo = (rand() % 5 == 0) ? INV_ALT : urand(-900, 3000);
        in.Timestamp = rand() % 300000000;
        if (encodeSystemMessage(&enc, &in) != ODID_SUCCESS) return 1;
        decodeSystemMessage(&out, &enc);
        printf("{\"type\":\"system\",\"hex\":\""); hex(&enc, 25);
        printf("\",\"op_loc_type\":%d,\"class_type\":%d,\"op_lat\":%.7f,\"op_lon\":%.7f,\"area_count\":%d,"
               "\"area_radius\":%d,\"area_ceiling\":%.1f,\"area_floor\":%.1f,\"category_eu\":%d,\"class_eu\":%d,"
               "\"op_alt\":%.1f,\"timestamp\":%u}\n", out.OperatorLocationType, out.ClassificationType,
               out.OperatorLatitude, out.OperatorLongitude, out.AreaCount, out.AreaRadius, out.AreaCeiling,
               out.AreaFloor, out.CategoryEU, out.ClassEU, out.OperatorAltitudeGeo, out.Timestamp);
    }
    {
        ODID_BasicID_data in, out; ODID_BasicID_encoded enc;
        odid_initBasicIDData(&in);
        in.IDType = ODID_IDTYPE_SERIAL_NUMBER; in.UAType = ODID_UATYPE_HELICOPTER_OR_MULTIROTOR;
        strcpy(in.UASID, "1581F4XFC2345678");
        encodeBasicIDMessage(&enc, &in); decodeBasicIDMessage(&out, &enc);
        printf("{\"type\":\"basic_id\",\"hex\":\""); hex(&enc, 25);
        printf("\",\"id_type\":%d,\"ua_type\":%d,\"uas_id\":\"%s\"}\n", out.IDType, out.UAType, out.UASID);
    }
    {
        /* a whole Wi-Fi beacon frame with a message pack */
        ODID_UAS_Data uas; odid_initUasData(&uas);
        uas.BasicID[0].IDType = ODID_IDTYPE_CAA_REGISTRATION_ID; uas.BasicID[0].UAType = ODID_UATYPE_FREE_BALLOON;
        strcpy(uas.BasicID[0].UASID, "FIN87astrdge12k8"); uas.BasicIDValid[0] = 1;
        uas.Location.Status = ODID_STATUS_AIRBORNE; uas.Location.Latitude = 60.1699; uas.Location.Longitude = 24.9384;
        uas.Location.AltitudeGeo = 120.5; uas.Location.SpeedHorizontal = 5.25; uas.Location.Direction = 200;
        uas.Location.SpeedVertical = -1.5; uas.Location.TimeStamp = 1234.5; uas.Location.HorizAccuracy = ODID_HOR_ACC_3_METER;
        uas.LocationValid = 1;
        uas.System.OperatorLatitude = 60.1698; uas.System.OperatorLongitude = 24.9383; uas.System.OperatorAltitudeGeo = 10;
        uas.SystemValid = 1;
        strcpy(uas.OperatorID.OperatorId, "FIN87astrdge12k8"); uas.OperatorIDValid = 1;
        uint8_t buf[512];
        int len = odid_wifi_build_message_pack_beacon_frame(&uas, "\x62\x60\x1f\xaa\xbb\x03", "RID-DRONE", 9, 100, 0x42, buf, sizeof buf);
        if (len < 0) { fprintf(stderr, "beacon fail %d\n", len); return 1; }
        printf("{\"type\":\"wifi_beacon\",\"hex\":\""); hex(buf, len); printf("\"}\n");
    }
    return 0;
}
